import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons import cli, pipeline, report
from contact_reasons.config import FaqSettings
from contact_reasons.embed import cache_key
from contact_reasons.errors import InputError
from contact_reasons.faq import (
    answerability,
    faq_passages,
    faq_recommendations,
    null_threshold,
    page_documents,
    read_faq_units,
    suggest_title,
)
from contact_reasons.storage import Database
from tests.conftest import FAQ, RecordingEmbedder

DIM = 48
NOISE = 0.6
WEAK = 0.3


def _unit(rng, i):
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def _near(rng, target, n, noise=NOISE):
    out = target[None, :] + noise * rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def scene():
    """Four reasons and an FAQ of twelve units over eight pages, with known answers.

    - reason 1 (meter reading): unit 0 answers it;
    - reason 2 (invoice): page "faktura" (units 1, 2, 4, 5) is about it as a whole, no unit is;
    - reason 3 (app update): nothing near it;
    - reason 4 (ignored in the catalogue): unit 3 answers it;
    - units 6-11: other pages, unrelated to every call.
    """
    rng = np.random.default_rng(7)
    units = pl.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(12)],
            "url": ["maaler.md", "faktura.md", "faktura.md", "kort.md"]
            + ["faktura.md", "faktura.md"]
            + [f"side{i}.md" for i in range(6)],
            "page_title": ["Hvordan aflæser jeg måleren?", "Faktura", "Faktura", "Mistet kort"]
            + [f"Side {i}" for i in range(8)],
            "question": ["Hvordan aflæser jeg måleren?", "Betaling", "Gebyrer", "Spær kortet"]
            + [f"Emne {i}" for i in range(8)],
            "answer": ["Aflæs", "Betal", "Gebyr", "Spær"] + [f"Svar {i}" for i in range(8)],
            "page_date": [date(2026, 10, 5), None, None, None] + [None] * 8,
            "page_date_source": ["text", None, None, None] + [None] * 8,
        }
    )
    invoice = (_unit(rng, 1) + _unit(rng, 2)) / np.sqrt(2)

    def touching(i):  # a unit mostly about something else, a little about invoices
        v = WEAK * invoice + _unit(rng, i)
        return v / np.linalg.norm(v)

    vecs = [_unit(rng, 0), touching(5), touching(6), _unit(rng, 3), touching(7), touching(8)]
    vecs += [_unit(rng, 10 + i) for i in range(6)]
    unit_vectors = np.stack(vecs).astype(np.float32)
    weeks = [f"2026-W{w}" for w in range(36, 48)]
    rows, vectors = [], []
    plan = {
        1: (_unit(rng, 0), [30] * 5 + [12] * 7, "da", "Hvordan aflæser jeg min måler?"),
        2: (invoice, [10] * 12, "nb", "Hvorfor er fakturaen så høy?"),
        3: (_unit(rng, 30), [0] * 8 + [5, 15, 35, 60], "nb", "Hvorfor virker ikke appen?"),
        4: (_unit(rng, 3), [8] * 12, "da", "Hvordan spærrer jeg kortet?"),
    }
    for reason, (target, per_week, lang, question) in plan.items():
        for week, count in zip(weeks, per_week, strict=True):
            for k in range(count):
                rows.append(
                    {
                        "call_id": f"r{reason}-{week}-{k}",
                        "reason_id": reason,
                        "week": week,
                        "reason_text": f"kunde spurgte om emne {reason}",
                        "customer_text": f"Hej. {question} Tak." if k % 2 else "Hej, tak.",
                        "detected_language": lang if k % 4 else "en",
                        "answered": k % 10 != 0,
                    }
                )
            if count:
                vectors.append(_near(rng, target, count))
    calls = pl.DataFrame(rows)
    reasons = pl.DataFrame(
        {
            "reason_id": [1, 2, 3, 4],
            "label": ["Måler", "Faktura for høj", "App fejler", "Kort spærret"],
            "status": ["active", "active", None, "ignored"],
        }
    )
    return reasons, calls, np.concatenate(vectors).astype(np.float32), units, unit_vectors


def _recommend(scene, settings=None):
    reasons, calls, vectors, units, unit_vectors = scene
    return faq_recommendations(
        reasons,
        calls,
        calls.select("call_id", "reason_id"),
        vectors,
        units,
        unit_vectors,
        settings or FaqSettings(),
        weeks=12,
    )


def test_each_reason_gets_its_kind_of_gap(scene):
    gaps = _recommend(scene)
    kinds = dict(zip(gaps["reason_id"], gaps["recommendation"], strict=True))
    assert kinds == {1: "covered", 2: "improve_page", 3: "new_page"}  # 4 is ignored
    by_id = {r["reason_id"]: r for r in gaps.iter_rows(named=True)}
    assert by_id[1]["coverage"] > 0.9
    assert by_id[1]["best_unit_id"] == "u0"
    assert by_id[2]["coverage"] < 0.5 < by_id[2]["touched"]
    assert by_id[2]["best_url"] == "faktura.md"
    assert by_id[3]["touched"] < 0.5
    assert by_id[3]["trend"] == "new"
    # Gaps first, by calls a page could save (a new page saves more); the answered reason last.
    assert gaps["reason_id"].to_list() == [3, 2, 1]
    assert gaps["rank"].to_list() == [1, 2, 3]


def test_the_page_date_splits_calls_before_and_after(scene):
    gaps = _recommend(scene)
    meter = gaps.filter(pl.col("reason_id") == 1).row(0, named=True)
    assert meter["page_date"] == date(2026, 10, 5)  # a Monday: week 41 is after
    assert meter["calls_per_week_before"] == pytest.approx(30.0)
    assert meter["calls_per_week_after"] == pytest.approx(12.0)
    assert meter["recommendation"] == "covered"  # answered, and its calls fell


def test_an_answered_reason_whose_calls_stay_high_is_a_findability_gap(scene):
    reasons, calls, vectors, units, unit_vectors = scene
    undated = units.with_columns(pl.lit(None, pl.Date).alias("page_date"))
    gaps = faq_recommendations(
        reasons.with_columns(pl.lit("active").alias("status")),
        calls,
        calls.select("call_id", "reason_id"),
        vectors,
        undated,
        unit_vectors,
        FaqSettings(),
        weeks=12,
    )
    kinds = dict(zip(gaps["reason_id"], gaps["recommendation"], strict=True))
    assert kinds[1] == "findability"  # no date to compare with; among the busiest reasons
    assert kinds[4] == "covered"  # answered, and among the quieter half


def test_decisions_do_not_depend_on_the_models_cosine_scale(scene):
    """A model that puts everything near 0.8 decides the same: no cosine is fixed."""
    _, _, vectors, units, unit_vectors = scene
    plain = answerability(vectors, units, unit_vectors, FaqSettings())
    # Append a shared component: every cosine becomes 0.8 + 0.2 * the old one.
    squeeze = np.sqrt(0.2)
    common = np.full((1, 1), np.sqrt(0.8), dtype=np.float32)
    v = np.hstack([squeeze * vectors, np.repeat(common, len(vectors), 0)])
    u = np.hstack([squeeze * unit_vectors, np.repeat(common, len(unit_vectors), 0)])
    squeezed = answerability(v, units, u, FaqSettings())
    assert float((v @ u.T).min()) > 0.7
    assert plain["answered"].to_list() == squeezed["answered"].to_list()
    assert plain["touched"].to_list() == squeezed["touched"].to_list()


def test_null_threshold_reads_the_false_answers_off_the_mirrored_tail():
    rng = np.random.default_rng(1)
    null = rng.standard_normal(20_000)
    assert null_threshold(null, 0.01) > 3.0  # pure noise: only the far tail passes
    related = np.concatenate([null, rng.normal(8.0, 0.5, 500)])
    t = null_threshold(related, 0.01)
    assert 2.5 < t < 5.0
    assert (related >= t).sum() >= 500


def test_null_threshold_on_a_big_window_reads_a_sample_of_the_pairs():
    rng = np.random.default_rng(2)
    scores = np.concatenate([rng.standard_normal(6_000_000), rng.normal(8.0, 0.5, 150_000)])
    rng.shuffle(scores)
    full = null_threshold(scores[:3_000_000], 0.01)  # under the sample size: every pair
    sampled = null_threshold(scores, 0.01)
    assert abs(sampled - full) < 0.15


def test_no_units_means_every_reason_needs_a_page(scene):
    reasons, calls, vectors, units, unit_vectors = scene
    gaps = faq_recommendations(
        reasons,
        calls,
        calls.select("call_id", "reason_id"),
        vectors,
        units.head(0),
        unit_vectors[:0],
        FaqSettings(),
        weeks=12,
    )
    assert set(gaps["recommendation"]) == {"new_page"}
    assert gaps["best_url"].is_null().all()


def test_title_is_the_callers_own_question_in_their_language(scene):
    gaps = _recommend(scene)
    by_id = {r["reason_id"]: r for r in gaps.iter_rows(named=True)}
    assert by_id[1]["suggested_title"] == "Hvordan aflæser jeg min måler?"
    assert by_id[1]["language"] == "da"
    assert by_id[2]["suggested_title"] == "Hvorfor er fakturaen så høy?"
    assert by_id[2]["language"] == "nb"
    assert by_id[2]["caller_languages"].startswith("nb 7")
    assert "Hvorfor er fakturaen så høy?" in by_id[2]["unanswered_questions"]


def test_title_prefers_the_question_most_callers_ask():
    questions = [
        "Hvordan indsender jeg min målerstand?",
        "Kan jeg sende et billede af måleren?",
        "Hvor indsender jeg målerstand uden login?",
        "Hvornår skal målerstanden indsendes?",
    ]
    title = suggest_title(questions, [], "Måler", "da")
    assert title in {
        "Hvordan indsender jeg min målerstand?",
        "Hvor indsender jeg målerstand uden login?",
    }
    # No question asked: the customer's own sentence becomes one, never a template.
    assert (
        suggest_title([], ["Hej, min måler viser noget mærkeligt i dag"], "Måler", "da")
        == "Min måler viser noget mærkeligt i dag?"
    )


def test_title_follows_the_words_typical_of_the_reasons_callers():
    from contact_reasons import faq

    # A reason about rebooked flights that also caught a few card calls: the card question is
    # asked more often word for word, but the flight words are what its callers say.
    said = [
        *["Hej, flyet er aflyst, kan I booke mig om til i morgen"] * 4,
        *["Mit fly til Oslo er aflyst, hvad gør jeg nu"] * 3,
        *["Hej, hvornår kommer mit nye kort?"] * 5,
    ]
    everyone = [*said, *["Hej, hvornår kommer mit nye kort?"] * 40, *["Hej, regningen er høj"] * 40]
    mine = pl.DataFrame({"customer_text": said})
    weights = faq._typical_words(
        mine,
        faq._document_frequencies(pl.DataFrame({"customer_text": everyone}), "customer_text"),
        "customer_text",
    )
    questions = [
        "Hvornår kommer mit nye kort?",
        "Kan I booke mig om til i morgen, flyet er aflyst?",
    ]
    assert suggest_title(questions, [], "Fly", "da") == "Hvornår kommer mit nye kort?"
    assert (
        suggest_title(questions, [], "Fly", "da", weights)
        == "Kan I booke mig om til i morgen, flyet er aflyst?"
    )


def test_phrasings_follow_the_words_typical_of_the_reasons_callers():
    from contact_reasons import faq

    mine = pl.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "customer_text": [
                "Hej, hvornår kommer mit nye kort",
                "Flyet er aflyst, kan I booke mig om",
                "Mit fly er aflyst, hvad gør jeg",
            ],
            "reason_text": ["Nyt kort", "Ombooking", "Ombooking"],
            # the card call lies nearest the centre, but flight words are what callers say
            "centrality": [0.9, 0.5, 0.4],
        }
    )
    weights = {"flyet": 1.0, "fly": 1.0, "aflyst": 2.0, "booke": 1.0, "kort": 0.1}
    assert faq._phrasings(mine, 1) == ["Hej, hvornår kommer mit nye kort"]
    assert faq._phrasings(mine, 2, weights) == [
        "Flyet er aflyst, kan I booke mig om",
        "Mit fly er aflyst, hvad gør jeg",
    ]


def test_savings_state_their_assumption(scene):
    gaps = _recommend(scene)
    new = gaps.filter(pl.col("recommendation") == "new_page").row(0, named=True)
    # The calls a page can save are those still to come: the last four weeks' rate, not the
    # window's mean, which an emerging reason (this one is new) is a fraction of.
    calls = scene[1]
    weeks = sorted(calls["week"].unique().to_list())[-4:]
    mine = calls.filter(pl.col("reason_id") == new["reason_id"])
    rate = sum(mine["week"].to_list().count(w) for w in weeks) / len(weeks)
    assert new["trend"] == "new"
    assert rate > new["calls_per_week"]
    assert new["estimated_calls_saved"] == pytest.approx(round(rate * 0.3, 1))
    assert "(the rate of the last 4 weeks)" in new["savings_assumption"]
    assert "30%" in new["savings_assumption"]
    assert "85%" in new["savings_assumption"]  # unanswered callers who never call back
    assert new["unanswered_calls_per_week"] > 0


def test_readers_keep_title_text_and_strip_boilerplate(tmp_path: Path):
    (tmp_path / "a.md").write_text("# Hvordan flytter jeg?\n\nDu flytter **sådan** her.\n")
    (tmp_path / "b.html").write_text(
        "<html><head><title>T</title></head><body><nav>Menu Forside</nav>"
        "<h1>Åbningstider i julen</h1><p>Vi har åbent 27.-30. december.</p>"
        "<footer>© Firma</footer></body></html>"
    )
    docs = page_documents(read_faq_units([tmp_path]))
    assert docs["title"].to_list() == ["Hvordan flytter jeg?", "Åbningstider i julen"]
    assert docs["language"].to_list() == ["da", "da"]
    html_text = docs["text"][1]
    assert "27.-30. december" in html_text
    assert "Menu" not in html_text
    assert "©" not in html_text


def test_missing_faq_path_is_an_error(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        read_faq_units([tmp_path / "nope"])


def test_faq_command_renders_stored_gaps(scene, tmp_path: Path, capsys):
    gaps = _recommend(scene)
    db_path = tmp_path / "g.duckdb"
    with Database(db_path) as db:
        db._insert("faq_recommendations", gaps)
    assert cli.main(["faq", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "[IMPROVE PAGE] Hvorfor er fakturaen så høy?" in out
    assert "[NEW PAGE]" in out
    assert "Answered by the FAQ" in out
    assert "30.0 -> 12.0 calls/week (-60%)" in out
    assert "what callers ask that the page leaves open" in out
    assert cli.main(["faq", "--db", str(db_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["reason_id"] for r in rows] == [3, 2, 1]
    assert cli.main(["faq", "--db", str(db_path), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("rank,reason_id,label,recommendation")
    markdown = report.markdown_faq_gaps(gaps)
    assert "| 2 | improve_page | Hvorfor er fakturaen så høy? |" in markdown


def test_stored_first_read_dates_pages_without_a_date(scene):
    reasons, calls, vectors, units, unit_vectors = scene
    read = units.with_columns(pl.lit(datetime(2026, 11, 2, 9)).alias("first_read_at"))
    gaps = faq_recommendations(
        reasons,
        calls,
        calls.select("call_id", "reason_id"),
        vectors,
        read,
        unit_vectors,
        FaqSettings(),
        weeks=12,
    )
    invoice = gaps.filter(pl.col("reason_id") == 2).row(0, named=True)
    assert invoice["page_date"] == date(2026, 11, 2)
    assert invoice["page_date_source"] == "first_read"
    assert invoice["calls_per_week_before"] == pytest.approx(10.0)
    meter = gaps.filter(pl.col("reason_id") == 1).row(0, named=True)
    assert meter["page_date_source"] == "text"  # its own date stays


def test_an_indirect_question_becomes_a_direct_one():
    said = ["hei, jeg lurte på hvordan jeg sier opp abonnementet"]
    assert suggest_title([], said, "x", "nb") == "Hvordan sier jeg opp abonnementet?"
    said = ["hej, hvor i byen ligger butikken"]
    assert suggest_title([], said, "x", "da") == "Hvor i byen ligger butikken?"


def test_the_suggested_title_follows_the_report_language_where_callers_use_it(scene):
    reasons, calls, vectors, units, unit_vectors = scene
    english = (pl.col("reason_id") == 2) & (pl.col("detected_language") == "en")
    calls = calls.with_columns(
        pl.when(english)
        .then(pl.lit("Hello. Why is my invoice so high this month? Thanks."))
        .otherwise(pl.col("customer_text"))
        .alias("customer_text")
    )

    def titles(language):
        gaps = faq_recommendations(
            reasons,
            calls,
            calls.select("call_id", "reason_id"),
            vectors,
            units,
            unit_vectors,
            FaqSettings(),
            weeks=12,
            language=language,
        )
        return dict(zip(gaps["reason_id"], gaps["suggested_title"], strict=True))

    assert titles(None)[2] == "Hvorfor er fakturaen så høy?"  # the callers' main language
    assert titles("en")[2] == "Why is my invoice so high this month?"
    assert titles("da")[2] == "Hvorfor er fakturaen så høy?"  # no Danish callers: as before


def test_phrasings_that_differ_by_a_typo_or_a_full_stop_are_shown_once():
    from contact_reasons import faq

    mine = pl.DataFrame(
        {
            "call_id": ["a", "b", "c", "d"],
            "customer_text": [
                "Hej jeg sendte jakken retur i oktober, returnummer RT5531, har ikke set pengene",
                "Hej jeg sendte jakken retur i oktober, retrunummer RT5531, har ikke set pengene",
                "hej jeg sendte jakken retur i oktober returnummer RT5531 har ikke set pengene.",
                "Hvornår får jeg pengene for min returnerede jakke?",
            ],
            "reason_text": ["Retur", "Retur", "Retur", "Retur"],
            "centrality": [0.9, 0.8, 0.7, 0.6],
        }
    )
    assert faq._phrasings(mine, 2) == [
        "Hej jeg sendte jakken retur i oktober, returnummer RT5531, har ikke set pengene",
        "Hvornår får jeg pengene for min returnerede jakke?",
    ]
    # different questions that share many words are both kept
    assert not faq._near(
        faq._phrasing_key("Kan jeg opsige forsikringen pr 1 januar"),
        faq._phrasing_key("Kan jeg flytte forsikringen pr 1 januar"),
    )


def test_key_terms_leave_out_reference_numbers():
    from collections import Counter

    from contact_reasons import faq

    mine = pl.DataFrame(
        {"reason_text": ["Retur RT5531 ikke refunderet", "Retur RT5531 refusion mangler"]}
    )
    frequencies = (Counter({"retur": 2, "rt5531": 2, "refunderet": 1, "refusion": 1}), 100)
    terms = faq._key_terms(mine, frequencies, 5)
    assert "rt5531" not in terms
    assert terms[0] == "retur"


@pytest.mark.parametrize("prompt", [None, "query", "passage"])
def test_faq_units_are_embedded_with_the_calls_prompt_unless_set(prompt):
    # Compared like with like: a unit is embedded as the calls are (symmetric similarity), which
    # gets the kind right for more of the sample's reasons than e5's passage prompt
    # (docs/faq_gaps.md); `faq.unit_prompt: passage` brings the retrieval prompt back.
    settings = FaqSettings() if prompt is None else FaqSettings(unit_prompt=prompt)
    expected = prompt or "query"
    units = read_faq_units([FAQ])
    embedder = RecordingEmbedder()
    embedded = pipeline.embed_faq(embedder, units, {}, settings.unit_prompt)
    texts = faq_passages(units)
    assert {kind for kind, _ in embedder.asked} == {expected}
    assert sorted(t for _, t in embedder.asked) == sorted(set(texts))
    # the run looks the vectors up under the keys it stores them under: a second read embeds none
    keys = pipeline.faq_cache_keys(units, settings.unit_prompt)
    assert set(keys) == set(embedded.new_hashes)
    assert keys == [cache_key(t, expected) for t in texts]
    cached = dict(zip(embedded.new_hashes, embedded.new_vectors, strict=True))
    embedder.asked.clear()
    again = pipeline.embed_faq(embedder, units, cached, settings.unit_prompt)
    assert embedder.asked == []
    np.testing.assert_array_equal(again.vectors, embedded.vectors)


def test_two_gaps_never_share_a_title_the_reason_that_asks_it_most_keeps_it():
    from contact_reasons.faq import distinct_titles

    cancel = "Kan jeg si opp forsikringen fra 1. januar?"
    rows = [
        {  # a mixed reason: two of its callers ask the cancellation question
            "reason_id": 7,
            "calls": 80,
            "_titles": [cancel, "Hvor blir sofaen av?", "Spørsmål om levering?"],
            "_asked": {cancel: 2, "Hvor blir sofaen av?": 1},
        },
        {  # the cancellations: nine of its callers ask it
            "reason_id": 9,
            "calls": 60,
            "_titles": [cancel, "Hva koster det å si opp?"],
            "_asked": {cancel: 9, "Hva koster det å si opp?": 4},
        },
        {  # a reason with no other title keeps its only one, even when it is taken
            "reason_id": 11,
            "calls": 10,
            "_titles": [cancel],
            "_asked": {cancel: 1},
        },
    ]
    distinct_titles(rows)
    assert [r["suggested_title"] for r in rows] == [
        "Hvor blir sofaen av?",
        cancel,
        cancel,
    ]


def test_a_title_asks_once():
    from contact_reasons.faq import _as_question

    assert _as_question("den siger den er for lang??") == "Den siger den er for lang?"
    assert _as_question("Virker det!?") == "Virker det?"


def test_a_text_weight_does_not_depend_on_the_order_its_words_are_summed():
    # Words are a set: summed in hash order, the float sum differed between processes, and
    # a second run on the same input picked another title and phrasing order.
    from contact_reasons import faq

    for n in range(12):
        big, small, other = f"stort{n}ord", f"lille{n}ord", f"andet{n}ord"
        weights = {big: 1e16, small: 1.0, other: -1e16}
        weight = faq._text_weight(f"{big} {small} {other}", weights)
        assert weight == pytest.approx(1.0 / np.sqrt(3), rel=1e-12), n


def test_callers_questions_asked_as_often_come_in_one_order_whatever_the_calls_order():
    from contact_reasons import faq

    said = [
        "Hej. Hvorfor er min faktura så høj i denne måned? Tak.",
        "Hej. Hvornår kommer min nye faktura med posten? Tak.",
    ] * 2
    mine = pl.DataFrame({"customer_text": said, "detected_language": ["da"] * 4})
    forward = faq._questions(mine, "da")
    assert len(forward) == 2
    assert faq._questions(mine.reverse(), "da") == forward


@pytest.mark.parametrize("command", ["run", "backfill"])
def test_a_missing_faq_path_is_refused_before_the_run_starts(
    tmp_path, monkeypatch, capsys, command
):
    # It was read after discovery and statistics: a typo in --faq cost the whole run first.
    import flows.backfill
    import flows.weekly

    def no_run(*_args, **_kwargs):
        raise AssertionError("the flow started")

    monkeypatch.setattr(flows.weekly, "weekly_contact_reasons", no_run)
    monkeypatch.setattr(flows.backfill, "backfill_contact_reasons", no_run)
    calls = tmp_path / "calls.csv"
    calls.write_text("call_id,started_at,summary\nc1,2026-09-01,x\n", encoding="utf-8")
    missing = tmp_path / "fqa"
    args = [command, "--input", str(calls), "--db", str(tmp_path / "cr.duckdb")]
    code = cli.main([*args, "--faq", str(FAQ), "--faq", str(missing)])
    assert code == 2
    assert f"{missing}: FAQ path does not exist" in capsys.readouterr().err
    assert not (tmp_path / "cr.duckdb").exists()


def test_a_big_window_is_calibrated_on_a_sample_and_decides_as_the_whole(scene):
    """Past `calibration_calls`, the medians, spread and null are read off a seeded sample."""
    reasons, calls, vectors, units, unit_vectors = scene
    n = vectors.shape[0]
    languages = calls["detected_language"].to_list()
    whole = answerability(vectors, units, unit_vectors, FaqSettings(), languages)
    assert n < FaqSettings().calibration_calls  # the default calibrates this window whole
    same = answerability(vectors, units, unit_vectors, FaqSettings(calibration_calls=n), languages)
    assert same.equals(whole)
    sampled = answerability(
        vectors, units, unit_vectors, FaqSettings(calibration_calls=n // 3), languages
    )
    assert sampled.height == n
    agree = (sampled["answered"] == whole["answered"]).mean()
    assert agree >= 0.95
    assert (sampled["unit_index"] == whole["unit_index"]).mean() >= 0.95
    kinds = _recommend(scene)["recommendation"].to_list()
    assert _recommend(scene, FaqSettings(calibration_calls=n // 3))["recommendation"].to_list() == (
        kinds
    )


def test_calibration_rows_are_all_up_to_the_cap_then_a_fixed_sample():
    from contact_reasons.faq import calibration_rows

    assert calibration_rows(500, 500) is None
    rows = calibration_rows(10_000, 800)
    assert rows is not None
    assert rows.size == 800
    assert np.array_equal(rows, np.unique(rows))  # sorted, no repeats
    assert np.array_equal(rows, calibration_rows(10_000, 800))  # the same every run


def test_a_title_with_a_redaction_placeholder_goes_after_every_title_without_one():
    from contact_reasons.faq import rank_titles

    asked = [
        "Kan du lige rette min adresse, det er [ADDRESS]?",
        "Kan du lige rette min adresse, det er [ADDRESS]?",
        "Hvordan retter jeg min adresse i appen?",
    ]
    ranked = rank_titles(asked, [], "Adresseændring", language="da")
    assert ranked[0] == "Hvordan retter jeg min adresse i appen?"
    assert all("[ADDRESS]" in t for t in ranked[ranked.index(asked[0]) :])
    # with nothing else to offer, the placeholder question is still a title
    assert rank_titles(asked[:1], [], "", language="da") == asked[:1]
