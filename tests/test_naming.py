import numpy as np

from contact_reasons.naming import phrase_candidates, phrase_labels

TEXTS = [
    # reason 0: Apple Pay top-ups; "apple pay to top" is always followed by "up"
    "I tried apple pay to top up, it failed.",
    "Why can't I use apple pay to top up my account?",
    "apple pay to top up does not work",
    "Is apple pay to top up supported?",
    # reason 1: winter tyres (Danish), with a number, a placeholder and punctuation
    "Skift til vinterdæk, tid booket kl. 10. Ring [PHONE].",
    "Ønsker skift til vinterdæk inden frosten.",
    "Skift til vinterdæk på 2 biler.",
    "Kan I lave skift til vinterdæk i morgen?",
    # unexplained
    "hello",
]
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, -1])


def test_phrases_are_recurring_distinctive_and_completed():
    ranked = phrase_candidates(TEXTS, LABELS)
    assert ranked[0][0] == "apple pay to top up"  # the fragment is completed
    assert ranked[1][0] == "Skift til vinterdæk"
    assert -1 not in ranked
    everything = " ".join(p for phrases in ranked.values() for p in phrases)
    assert "PHONE" not in everything  # placeholders break phrases
    assert "10" not in everything  # so do numbers


def test_labels_are_capitalised_phrases_and_deterministic():
    first = phrase_labels(TEXTS, LABELS)
    assert first == {0: "Apple pay to top up", 1: "Skift til vinterdæk"}
    assert phrase_labels(TEXTS, LABELS) == first


def test_the_candidate_nearest_the_centre_wins():
    ranked = phrase_candidates(TEXTS, LABELS)
    target = ranked[1][-1]
    centre = np.array([1.0, 0.0])

    def embed(phrases):
        return np.array([[1.0, 0.0] if p == target else [0.0, 1.0] for p in phrases])

    labels = phrase_labels(TEXTS, LABELS, centres={1: centre}, embed=embed)
    assert labels[1] == target[:1].upper() + target[1:]
    assert labels[0] == "Apple pay to top up"  # no centre: the best-ranked phrase


def test_a_reason_without_a_recurring_phrase_has_no_label():
    texts = ["alpha beta", "gamma delta", "epsilon zeta"]
    assert phrase_labels(texts, np.array([0, 0, 0])) == {}


def test_short_call_candidates_for_some_reasons_are_theirs_among_all():
    import numpy as np

    from contact_reasons.naming import call_candidates

    rng = np.random.default_rng(3)
    texts = [f"Kort opkald {w}" for w in ("om regning", "om pakke", "om måler")] * 6
    labels = np.array([0, 1, 2] * 6)
    vectors = rng.normal(size=(len(texts), 8)) + np.eye(8)[labels] * 3
    centres = {
        r: vectors[labels == r].mean(axis=0) / np.linalg.norm(vectors[labels == r].mean(axis=0))
        for r in (0, 1, 2)
    }
    every = call_candidates(texts, labels, vectors, centres, contrast=1.0)
    some = call_candidates(texts, labels, vectors, centres, contrast=1.0, only=[1])
    assert some == {1: every[1]}
    assert every[1] == ["Kort opkald om pakke"]
