import json

import polars as pl
import pytest

from contact_reasons.transcripts import (
    add_reason_text,
    customer_reason_text,
    menu_choice,
    parse_transcript,
    primary_reason,
    split_sentences,
)

DANISH = """Medarbejder: Goddag, du taler med Anna fra Nordlys Energi
Kunde: Hej, mit navn er Per Hansen
Medarbejder: Må jeg bede om dit kundenummer?
Kunde: ja det er 558812
Medarbejder: Tak. Hvad kan jeg hjælpe med?
Kunde: Jo altså, jeg har fået en regning som er meget højere end den plejer at være
Medarbejder: Et øjeblik, jeg kigger lige
Kunde: tak"""


def test_plain_text_turns_and_continuation_lines():
    turns = parse_transcript("Agent: Hello\nCustomer: my card\nis lost\nAgent: ok")
    assert [(t.speaker, t.text) for t in turns] == [
        ("Agent", "Hello"),
        ("Customer", "my card is lost"),
        ("Agent", "ok"),
    ]


def test_json_turns():
    text = json.dumps([{"speaker": "Kunde", "text": "Hei"}, {"speaker": "Agent", "text": "Hei!"}])
    assert [t.speaker for t in parse_transcript(text)] == ["Kunde", "Agent"]


def test_reason_skips_greeting_identity_and_small_talk():
    assert customer_reason_text(DANISH).startswith("Jo altså, jeg har fået en regning")


def test_summary_is_preferred_and_source_recorded():
    calls = pl.DataFrame(
        {
            "call_id": ["1", "2"],
            "summary": ["Kunde ringer om høj regning.", None],
            "transcript": [DANISH, DANISH],
        }
    )
    out = add_reason_text(calls)
    assert out["text_source"].to_list() == ["summary", "transcript"]
    assert out["reason_text"][0] == "Kunde ringer om høj regning."
    assert "regning" in out["reason_text"][1]
    assert calls.columns == ["call_id", "summary", "transcript"]  # input untouched


@pytest.mark.parametrize(
    ("summary", "primary"),
    [
        (
            "Delvis levert, manglende eske sendes. Spurte også om faktura ikke mottatt.",
            "Delvis levert, manglende eske sendes.",
        ),
        ("Intet internet. Ville samtidig høre om roaming.", "Intet internet."),
        ("Router down. Customer also asked about roaming.", "Router down."),
        ("Card blocked. Mentioned roaming charges too.", "Card blocked."),
        ("Regning for høj. I tillegg spørsmål om flytting.", "Regning for høj."),
        # no second matter, or nothing before it: the summary stays whole
        ("Bill too high. Also the card is blocked.", "Bill too high. Also the card is blocked."),
        ("Kd. spurgte også om faktura.", "Kd. spurgte også om faktura."),
        (
            "Ring tilbage. Ville gerne have svar i dag.",
            "Ring tilbage. Ville gerne have svar i dag.",
        ),
    ],
)
def test_a_summary_s_reason_is_its_first_matter(summary, primary):
    assert primary_reason(summary) == primary


def test_the_reason_text_of_a_summary_stops_at_a_second_matter():
    calls = pl.DataFrame(
        {
            "call_id": ["1"],
            "summary": ["Kort spærret, nyt bestilt. Spurgte også om faktura ikke modtaget."],
            "transcript": [None],
        },
        schema_overrides={"transcript": pl.String},
    )
    out = add_reason_text(calls)
    assert out["reason_text"].to_list() == ["Kort spærret, nyt bestilt."]
    assert out["summary"][0].endswith("faktura ikke modtaget.")  # the summary itself is kept


@pytest.mark.parametrize(
    ("note", "choice"),
    [
        ("Ubesvaret opkald, lagt på i kø efter 3 min. Menuvalg: Anmeld skade.", "Anmeld skade"),
        ("Anrop ikke besvart (kø bank). Talemeny: Mistet bankkort.", "Mistet bankkort"),
        ("Caller hung up in queue. IVR option: Cancel an appointment", "Cancel an appointment"),
        ("Ubesvaret – kunden lagde på i køen. IVR: Login (MitID).", "Login (MitID)"),
        ("Ubesvaret opkald, lagt på efter 2 min.", None),
        ("Menuvalg: .", None),
        (None, None),
    ],
)
def test_menu_choice_is_read_from_the_phone_systems_note(note, choice):
    assert menu_choice(note) == choice


def test_unanswered_calls_use_their_menu_choice_and_answered_calls_their_summary():
    note = "Ubesvart anrop, la på i kø etter 8 min. Menyvalg: Faktura ikke mottatt."
    calls = pl.DataFrame(
        {
            "call_id": ["1", "2", "3", "4"],
            "summary": [note, note, "Ubesvart anrop etter 2 min.", note],
            "transcript": [None, None, None, None],
            "answered": [False, True, False, None],
        },
        schema_overrides={"transcript": pl.String},
    )
    out = add_reason_text(calls)
    assert out["reason_text"].to_list() == [
        "Faktura ikke mottatt",
        note,
        "Ubesvart anrop etter 2 min.",
        note,
    ]
    assert out["text_source"].to_list() == ["menu", "summary", "summary", "summary"]
    assert "_menu" not in out.columns


def test_closing_turns_are_not_reasons():
    text = (
        "Agent: Hva kan jeg hjelpe med?\n"
        "Kunde: Nei det var alt, takk for hjelpen og ha en fin dag\n"
        "Kunde: jeg har ikke fått fakturaen for oktober i posten eller på mail\n"
        "Kunde: Nej det var det, tak for hjælpen du har været sød"
    )
    assert (
        customer_reason_text(text)
        == "jeg har ikke fått fakturaen for oktober i posten eller på mail"
    )


def test_unanswered_calls_do_not_shape_reasons_unless_asked():
    from contact_reasons.cluster_settings import ClusterSettings
    from contact_reasons.weekly import fit_mask

    calls = pl.DataFrame({"answered": [True, False, None]})
    assert fit_mask(calls, ClusterSettings()).tolist() == [True, False, True]
    assert fit_mask(calls, ClusterSettings(fit_unanswered=True)).tolist() == [True, True, True]


# Hand-written transcripts in shapes the sample generator does not produce: the extraction must
# rest on the call's structure (who asked what) and general small-talk rules, not on its phrases.
NORWEGIAN_WITH_SECOND_TOPIC = """Agent: Velkommen til Fjordkraft, hva kan jeg hjelpe deg med?
Kunde: Hei, det er Kari Nordmann her
Agent: Hei Kari, kan jeg få fødselsnummeret ditt?
Kunde: Ja, det er [FNR]
Agent: Takk. Hva gjelder det?
Kunde: Jeg har fått purring på en regning som jeg allerede har betalt
Agent: Jeg ser den, purringen er trukket tilbake.
Kunde: Supert, takk
Agent: Noe mer jeg kan hjelpe deg med?
Kunde: Ja forresten, hvordan endrer jeg adressen min?"""


def test_identity_answers_and_everything_after_anything_else_are_skipped():
    assert customer_reason_text(NORWEGIAN_WITH_SECOND_TOPIC) == (
        "Jeg har fått purring på en regning som jeg allerede har betalt"
    )


def test_sign_off_and_account_line_are_cut_from_an_email():
    text = (
        "Customer: Hi, our broadband has been down since Monday morning. "
        "Customer number 4471120. Best regards, Tom Baker\n"
        "Agent: Hi Tom, we are sending a technician."
    )
    assert customer_reason_text(text) == "Hi, our broadband has been down since Monday morning."


def test_a_preamble_is_used_only_when_nothing_else_is_said():
    preamble_first = (
        "Kunde: Undskyld, jeg har lige et hurtigt spørgsmål\n"
        "Medarbejder: Ja, værsgo\n"
        "Kunde: Hvornår har I åbent mellem jul og nytår?"
    )
    assert customer_reason_text(preamble_first) == "Hvornår har I åbent mellem jul og nytår?"
    only_preamble = "Kunde: Hej, jeg har et spørgsmål\nMedarbejder: Ja?"
    assert customer_reason_text(only_preamble) == "Hej, jeg har et spørgsmål"


def test_second_topic_in_the_same_turn_is_left_out():
    text = (
        "Customer: My new card was declined at the supermarket today. "
        "Oh and one more thing, can I raise my daily limit?"
    )
    assert customer_reason_text(text) == "My new card was declined at the supermarket today."


def test_a_short_reason_turn_is_completed_by_the_next():
    text = (
        "Kunde: Det gælder min faktura.\n"
        "Medarbejder: Ja, hvad med den?\n"
        "Kunde: Den er dobbelt så høj som sidste måned"
    )
    assert customer_reason_text(text) == (
        "Det gælder min faktura. Den er dobbelt så høj som sidste måned"
    )


def test_sentence_kinds():
    from contact_reasons.transcripts import sentence_kind

    assert sentence_kind("Nå okay, det er fint.") == "noise"
    assert sentence_kind("Ja hej, det er Mette Sørensen.") == "noise"
    assert sentence_kind("Mit kundenummer er 1234567.") == "noise"
    assert sentence_kind("Min mail er [EMAIL].") == "noise"
    assert sentence_kind("Nei, det var alt, takk for hjelpen.") == "noise"
    assert sentence_kind("Mvh Ole") == "noise"
    assert sentence_kind("Hei, unnskyld at det bråker, jeg står på toget.") == "preamble"
    assert sentence_kind("Og så en ting til, kan jeg få e-faktura?") == "second"
    assert sentence_kind("Jeg kan ikke logge på MitID.") == "reason"
    assert sentence_kind("BankID virker ikke på den nye telefonen.") == "reason"


def test_diarised_speakers_first_is_agent_then_customer():
    text = (
        "Speaker 1: Goddag, du taler med Anna fra Nordlys Energi, hvad kan jeg hjælpe med?\n"
        "Speaker 2: Hej, det er Per Holm\n"
        "Speaker 1: Hvad er dit kundenummer?\n"
        "Speaker 2: Det er 4455667\n"
        "Speaker 1: Tak. Hvad drejer det sig om?\n"
        "Speaker 2: Min regning er alt for høj i denne måned\n"
        "Speaker 1: Det kigger jeg på."
    )
    assert customer_reason_text(text) == "Min regning er alt for høj i denne måned"
    assert customer_reason_text(text.replace("Speaker 1", "A").replace("Speaker 2", "B")) == (
        "Min regning er alt for høj i denne måned"
    )


def test_a_time_of_day_is_not_a_speaker():
    turns = parse_transcript("10:30 kunden ringede om sin regning\nKunde: den er for høj")
    assert [t.speaker for t in turns] == ["", "Kunde"]


def test_without_speaker_labels_the_agents_script_is_not_the_reason():
    text = (
        "Goddag, du taler med Anna fra Nordlys Energi. Hvad kan jeg hjælpe med? "
        "Hej, min regning er alt for høj i denne måned."
    )
    assert customer_reason_text(text) == "Hej, min regning er alt for høj i denne måned."


def test_a_reasons_examples_are_answered_calls_first():
    from contact_reasons.catalogue import CATALOGUE_SCHEMA, describe

    window = pl.DataFrame({"call_id": ["menu", "far", "near"], "detected_language": ["da"] * 3})
    call_reasons = pl.DataFrame(
        {
            "call_id": ["menu", "far", "near"],
            "week": ["2026-W47"] * 3,
            "reason_id": pl.Series([0, 0, 0], dtype=pl.Int32),
            "similarity": [0.99, 0.70, 0.90],  # the menu call is the most central
            "answered": [False, True, True],
        }
    )
    catalogue = pl.DataFrame(
        [{"reason_id": 0, "generated_name": "Faktura", "label": "Faktura", "status": "active"}],
        schema=CATALOGUE_SCHEMA,
    )
    table = describe(catalogue, window, call_reasons)
    assert table["example_call_ids"][0].to_list() == ["near", "far", "menu"]
    # the same text written for two calls is one example
    same = window.with_columns(pl.Series("text_hash", ["m", "t", "t"]))
    table = describe(catalogue, same, call_reasons)
    assert table["example_call_ids"][0].to_list() == ["near", "menu"]
    assert table["calls"][0] == 3


@pytest.mark.parametrize(
    "turn",
    [
        "Hej eh kan jeg få lov at betale regningen senere, jeg får først løn d. 31",
        "Jeg flyttede 26. september og har fået regning for kl. 12 til ca. 200 kr.",
    ],
)
def test_a_full_stop_after_an_abbreviation_or_a_number_does_not_cut_the_reason(turn):
    text = customer_reason_text(f"Agent: Kundeservice, hvad kan jeg hjælpe med?\nKunde: {turn}")
    assert text == turn


def test_a_full_stop_after_any_other_word_ends_the_sentence_whatever_follows():
    assert split_sentences("Internettet virker ikke. naboerne har heller ikke net") == [
        "Internettet virker ikke.",
        "naboerne har heller ikke net",
    ]
    assert split_sentences("Løn d.\n5 kroner mangler") == ["Løn d.", "5 kroner mangler"]
    assert split_sentences("Pris 1.920 kr. Det er dyrt\nNy linje") == [
        "Pris 1.920 kr.",
        "Det er dyrt",
        "Ny linje",
    ]
