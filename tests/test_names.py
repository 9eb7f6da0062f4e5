"""Reason names that cover their calls, per language, with evidence (issue 19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons import report
from contact_reasons.config import ConfigError, Settings, load_settings
from contact_reasons.naming import (
    DEFAULT_LANGUAGE,
    WEAK_MARKER,
    NameRule,
    about_nothing,
    call_candidates,
    choose_name,
    content_stems,
    language_names,
    name_language,
    name_share,
    phrase_names,
    shown_names,
)
from contact_reasons.pipeline import localised_labels
from contact_reasons.storage import Database
from tests.report_fixtures import LABELS, TOP_LABEL, build


def test_content_stems_are_long_words_cut_to_five_letters():
    assert content_stems("Åbningstider i julen, kl. 9-12") == {"åbnin", "julen"}
    assert content_stems("og i på 12") == frozenset()


def test_name_share_counts_texts_sharing_a_content_word():
    stems = [content_stems(t) for t in ("Pakke ikke modtaget", "Pakken kom aldrig", "Kort spærret")]
    assert name_share("Pakke ikke modtaget", stems) == pytest.approx(2 / 3)
    assert name_share("Pakke ventet torsdag", stems) == pytest.approx(2 / 3)
    assert name_share("før jul", stems) == 0.0
    assert name_share("Pakke", []) == 0.0


@pytest.mark.parametrize(
    ("phrase", "nothing"),
    [
        ("Pårørende ringer for mor", True),
        ("før jul", True),
        ("torsdag", True),
        ("Kunde", True),
        ("Customer called on Thursday", True),
        ("Pakke ventet torsdag", False),
        ("Åbningstider i julen", False),
        ("Book an appointment", False),
    ],
)
def test_who_calls_and_time_only_phrases_name_nothing(phrase, nothing):
    assert about_nothing(phrase) is nothing


def test_choose_name_prefers_the_phrase_most_calls_use_when_equally_close():
    texts = ["Pakke ikke modtaget", "Pakke ikke modtaget endnu", "Pakke ventet torsdag", "Pakken"]
    stems = [content_stems(t) for t in texts]
    name, share = choose_name(["Pakke ventet torsdag", "Pakke ikke modtaget"], stems, [0.8, 0.8])
    assert name == "Pakke ikke modtaget"
    assert share == pytest.approx(1.0)


def test_choose_name_rejects_who_calls_while_a_better_candidate_exists():
    texts = ["Pårørende ringer for mor om medicin", "Medicin til mor fornyet", "Medicin"]
    stems = [content_stems(t) for t in texts]
    # The who-calls phrase is the closest to the centre, and still loses.
    name, _ = choose_name(["Pårørende ringer for mor", "Medicin fornyet"], stems, [0.95, 0.80])
    assert name == "Medicin fornyet"
    # With nothing better it stays (a reason always has a name).
    assert choose_name(["pårørende ringer for mor"], stems)[0] == "Pårørende ringer for mor"


def test_choose_name_without_cover_weight_keeps_the_closest():
    stems = [content_stems(t) for t in ("aa bbbb", "cccc", "cccc")]
    assert choose_name(["bbbb", "cccc"], stems, [0.9, 0.5], cover_weight=0.0)[0] == "Bbbb"
    assert choose_name(["bbbb", "cccc"], stems, [0.9, 0.5], cover_weight=2.0)[0] == "Cccc"


# Reason 0 is about parcels, reason 1 about card blocks; each in Danish and English.
TEXTS = [
    "Pakke ikke modtaget, sporing sendt.",
    "Pakke ikke modtaget trods besked.",
    "Pakke ikke modtaget, ny levering.",
    "Pakke ikke modtaget endnu.",
    "Parcel not received, tracking sent.",
    "Parcel not received after a week.",
    "Parcel not received, redelivery booked.",
    "Kort spærret efter tyveri.",
    "Kort spærret, nyt kort bestilt.",
    "Kort spærret i udlandet.",
    "Card blocked abroad.",
    "hello",
]
LANGS = ["da"] * 4 + ["en"] * 3 + ["da"] * 3 + ["en", None]
LABELS_ = np.array([0] * 7 + [1] * 4 + [-1])


def _vectors(labels: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = np.eye(3)[np.where(labels < 0, 2, labels)]
    return (base + 0.01 * rng.standard_normal(base.shape)).astype(np.float32)


def test_language_names_name_each_reason_in_each_language_with_enough_calls():
    names = language_names(
        TEXTS,
        LANGS,
        LABELS_,
        _vectors(LABELS_),
        {0: "Pakke ikke modtaget", 1: "Kort spærret"},
        rule=NameRule(min_calls=3),
    )
    got = {(r, lang): (n, s) for r, lang, n, _, s, _ in names.iter_rows()}
    assert got[(0, "da")][0] == "Pakke ikke modtaget"
    assert got[(0, "en")][0] == "Parcel not received"
    assert got[(0, "en")][1] == pytest.approx(1.0)
    assert got[(1, "da")][0] == "Kort spærret"
    assert (1, "en") not in got  # one English call: readers of English get the default name
    # The default name's evidence is over all of the reason's calls, languages mixed.
    assert got[(0, DEFAULT_LANGUAGE)] == ("Pakke ikke modtaget", pytest.approx(4 / 7, abs=1e-4))
    weak = {(r, lang): w for r, lang, _, _, _, w in names.iter_rows()}
    assert not weak[(0, DEFAULT_LANGUAGE)]
    assert names.filter(pl.col("language") == "nb").height == 0


def test_nynorsk_calls_read_the_bokmal_name():
    assert name_language("nn") == "nb"
    assert name_language("nb") == "nb"
    assert name_language("sv") is None
    assert name_language(None) is None


def test_phrase_names_carry_their_share():
    named = phrase_names(TEXTS, LABELS_)
    assert named[1].calls == 4
    assert 0 < named[1].share <= 1


def _names_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "reason_id": [1, 1, 2, 2],
            "language": ["all", "nb", "all", "nb"],
            "name": ["Faktura højere", "Faktura høyere enn ventet", "Appen", "Appen virker ikke"],
            "calls": [100, 40, 50, 20],
            "share": [0.6, 0.7, 0.1, 0.15],
            "weak": [False, False, True, True],
        },
        schema_overrides={"reason_id": pl.Int32},
    )


def test_shown_names_human_name_wins_then_language_then_default():
    reasons = pl.DataFrame(
        {"reason_id": [1, 2, 3], "label": ["Faktura højere", "Appen", "Måler"]}
    ).with_columns(pl.Series("name", [None, "App-fejl", None], dtype=pl.String))
    nb = shown_names(reasons, _names_frame(), "nb")
    assert nb["label"].to_list() == ["Faktura høyere enn ventet", "App-fejl", "Måler"]
    assert nb["weak_name"].to_list() == [False, False, False]  # a person's name is not weak
    assert nb["name_share"].to_list() == [0.7, None, None]
    default = shown_names(reasons.drop("name"), _names_frame(), None)
    assert default["label"].to_list() == ["Faktura højere", "Appen", "Måler"]
    assert default["weak_name"].to_list() == [False, True, False]
    # A language the reason has no name in falls back to the default name and its evidence.
    en = shown_names(reasons.drop("name"), _names_frame(), "en")
    assert en["label"].to_list() == default["label"].to_list()
    assert en["name_share"].to_list() == [0.6, 0.1, None]


def test_report_language_is_a_typed_setting(tmp_path):
    assert Settings().report.language is None
    path = tmp_path / "c.toml"
    path.write_text('[report]\nlanguage = "nb"\n', encoding="utf-8")
    assert load_settings(path).report.language == "nb"
    path.write_text('[report]\nlanguage = "sv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="report.language"):
        load_settings(path)


def test_faq_labels_follow_the_report_language():
    catalogue = pl.DataFrame(
        {"reason_id": [1, 2], "label": ["Faktura højere", "Appen"], "name": [None, "App-fejl"]},
        schema_overrides={"name": pl.String},
    )
    shown = localised_labels(catalogue, _names_frame(), "nb")
    assert shown["label"].to_list() == ["Faktura høyere enn ventet", "App-fejl"]
    assert localised_labels(catalogue, _names_frame(), None).equals(catalogue)


@pytest.fixture(scope="module")
def named_db(tmp_path_factory) -> Path:
    """The report fixture, with reason names written the way a run writes them."""
    path = build(tmp_path_factory.mktemp("names") / "r.duckdb")
    with Database(path) as db, db.transaction():
        db._insert("reason_names", _names_frame())  # noqa: SLF001 - test set-up
    return path


def test_reports_show_the_name_in_the_report_language_and_mark_weak_evidence(named_db):
    with Database(named_db, read_only=True) as db:
        _, default = report.top_reasons(db)
        _, nb = report.top_reasons(db, language="nb")
        artifact = report.top_reasons_artifact(db, language="nb")
        alerts = report.alerts_markdown(db, language="nb")
    labels = dict(zip(default["reason_id"], default["label"], strict=True))
    assert labels[1] == TOP_LABEL  # the stored default, its evidence not weak
    assert labels[2] == LABELS[2] + WEAK_MARKER  # the default name, its evidence weak
    assert labels[3] == LABELS[3]  # no names stored for it: as before
    nb_labels = dict(zip(nb["reason_id"], nb["label"], strict=True))
    assert nb_labels[1] == "Faktura høyere enn ventet"
    assert nb_labels[2] == "Appen virker ikke" + WEAK_MARKER
    assert dict(zip(nb["reason_id"], nb["name_share"], strict=True))[1] == 0.7
    assert artifact[0]["reason"] == "Faktura høyere enn ventet"
    assert "Appen virker ikke" in alerts


def test_cli_report_language_flag_and_config(named_db, tmp_path, capsys):
    from contact_reasons.cli import main

    assert main(["report", "--db", str(named_db), "--language", "nb", "--format", "csv"]) == 0
    assert "Faktura høyere enn ventet" in capsys.readouterr().out
    config = tmp_path / "c.toml"
    config.write_text('[report]\nlanguage = "nb"\n', encoding="utf-8")
    assert main(["report", "--db", str(named_db), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Faktura høyere enn ventet" in out
    assert "weak" in out  # the marker is explained under the table


def test_html_report_shows_the_language_name_and_explains_the_marker(named_db, tmp_path):
    from contact_reasons.cli import main

    out = tmp_path / "r.html"
    args = ["report", "--db", str(named_db), "--format", "html", "--output", str(out)]
    assert main([*args, "--language", "nb"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Faktura høyere enn ventet" in page
    assert "Appen virker ikke (?)" in page
    assert "weak evidence" in page


def test_contrast_prefers_the_phrase_that_fits_no_neighbour():
    texts = ["Faktura beløb", "Beløb faktura", "Faktura, beløb"]
    texts += ["Faktura mangler", "Mangler faktura", "Faktura, mangler"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    centres = {0: np.array([1.0, 0.0, 0.0]), 1: np.array([0.0, 1.0, 0.0])}
    vectors = {
        "Faktura": [0.75, 0.66, 0.0],  # close to both reasons
        "beløb": [0.7, 0.0, 0.71],  # a little less close, to reason 0 only
    }

    def embed(phrases):
        return np.asarray([vectors.get(p, [0.0, 0.0, 1.0]) for p in phrases], dtype=np.float32)

    plain = phrase_names(
        texts, labels, centres=centres, embed=embed, rule=NameRule(cover_weight=0.0, contrast=0.0)
    )
    assert plain[0].name == "Faktura"
    contrasted = phrase_names(
        texts, labels, centres=centres, embed=embed, rule=NameRule(cover_weight=0.0, contrast=0.5)
    )
    assert contrasted[0].name == "Beløb"


def test_choose_name_prefers_the_nearer_of_two_candidates_with_about_the_same_margin():
    stems = [content_stems("aaaa bbbb cccc")] * 3  # every candidate covers every call
    phrases = ["aaaa", "bbbb", "cccc"]
    margins = [0.20, 0.21, 0.0]  # cosine to the centre less that to the nearest other centre
    closeness = [0.90, 0.60, 0.50]  # cosine to the centre
    # The margin alone takes "bbbb", a hair ahead of "aaaa" though much farther from the centre.
    assert choose_name(phrases, stems, margins)[0] == "Bbbb"
    chosen = choose_name(phrases, stems, margins, closeness=closeness, closeness_weight=0.15)
    assert chosen[0] == "Aaaa"


def test_closeness_weight_breaks_a_near_tie_of_margins_towards_the_centre():
    texts = ["Faktura beløb", "Beløb faktura", "Faktura, beløb", "Rykker", "Rykker igen"]
    texts += ["Mangler", "Mangler stadig", "Mangler igen"]
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    centres = {0: np.array([1.0, 0.0, 0.0]), 1: np.array([0.0, 1.0, 0.0])}
    vectors = {  # margins 0.20, 0.21 and 0.0 over reason 1; cosines 0.60, 0.35, 0.30
        "Faktura": [0.60, 0.40, 0.693],
        "beløb": [0.35, 0.14, 0.926],
        "Rykker": [0.30, 0.30, 0.906],
    }

    def embed(phrases):
        return np.asarray([vectors.get(p, [0.0, 1.0, 0.0]) for p in phrases], dtype=np.float32)

    def named(weight):
        rule = NameRule(cover_weight=0.0, contrast=1.0, closeness_weight=weight)
        return phrase_names(texts, labels, centres=centres, embed=embed, rule=rule)[0].name

    assert named(0.0) == "Beløb"
    assert named(0.15) == "Faktura"
    assert NameRule().closeness_weight == 0.15


def test_a_stored_name_few_calls_use_is_replaced_by_one_that_covers_more():
    names = language_names(
        TEXTS, LANGS, LABELS_, _vectors(LABELS_), {0: "Kørekort før jul", 1: "Kort spærret"}
    )
    default = names.filter(pl.col("language") == DEFAULT_LANGUAGE)
    got = dict(zip(default["reason_id"], default["name"], strict=True))
    assert got[0] != "Kørekort før jul"
    assert got[1] == "Kort spærret"  # nothing covers more of its calls: it stays
    share = dict(zip(default["reason_id"], default["share"], strict=True))
    assert share[0] >= 4 / 7 - 1e-4
    # A name that says when (or who calls) gives way even to one covering no more calls.
    when = language_names(TEXTS, LANGS, LABELS_, _vectors(LABELS_), {0: "Pakke ventet torsdag"})
    renamed = when.filter(pl.col("language") == DEFAULT_LANGUAGE)["name"][0]
    assert "torsdag" not in renamed.lower()
    # A weekly update keeps names as it keeps ids; only a refit renames.
    kept = language_names(
        TEXTS, LANGS, LABELS_, _vectors(LABELS_), {0: "Kørekort før jul"}, rename=False
    )
    assert kept.filter(pl.col("language") == DEFAULT_LANGUAGE)["name"].to_list() == [
        "Kørekort før jul"
    ]


def _phrase_embedder(asked: list[str]):
    """Embeds phrases by which reason's words they hold (as `_vectors`); records them."""

    def embed(phrases):
        asked.extend(phrases)
        rows = []
        for p in phrases:
            low = p.lower()
            hot = 0 if ("pakke" in low or "parcel" in low) else 1 if "kort" in low else 2
            rows.append(np.eye(3)[hot] if "card" not in low else np.eye(3)[1])
        return np.asarray(rows, dtype=np.float32)

    return embed


def test_an_update_keeps_stored_language_names_and_names_only_the_others():
    defaults = {0: "Pakke ikke modtaget", 1: "Kort spærret"}
    args = (TEXTS, LANGS, LABELS_, _vectors(LABELS_), defaults)
    full_asked: list[str] = []
    rule = NameRule(min_calls=3)
    full = language_names(*args, embed=_phrase_embedder(full_asked), rule=rule, rename=False)
    stored = {
        (r, lang): n for r, lang, n in full.select("reason_id", "language", "name").iter_rows()
    }
    # Stored names as the full naming gives them: the same table, and nothing embedded.
    asked: list[str] = []
    same = language_names(
        *args, embed=_phrase_embedder(asked), rule=rule, rename=False, keep=stored
    )
    assert same.equals(full)
    assert asked == []
    # Reason 0 keeps its (stored, here poor) Danish name, its evidence measured afresh; its
    # English name was never stored, so it is named, as the full naming names it.
    asked.clear()
    keep = {(0, "da"): "Kort spærret", (1, "da"): "Kort spærret"}
    update = language_names(
        *args, embed=_phrase_embedder(asked), rule=rule, rename=False, keep=keep
    )
    got = {(r, lang): (n, c, s) for r, lang, n, c, s, _ in update.iter_rows()}
    assert got[(0, "da")] == ("Kort spærret", 4, 0.0)
    assert got[(0, "en")] == (stored[(0, "en")], 3, pytest.approx(1.0))
    assert got[(1, "da")][0] == "Kort spærret"
    # Only reason 0's English candidates were embedded: no Danish phrase.
    assert asked
    assert set(asked) < set(full_asked)
    assert not [p for p in asked if {"pakke", "kort", "modtaget"} & set(p.lower().split())]
    assert update.filter(pl.col("language") != "da").equals(full.filter(pl.col("language") != "da"))
    # A refit names every reason afresh, whatever is stored.
    refit = language_names(*args, rule=rule, rename=True, keep=keep)
    assert refit.equals(language_names(*args, rule=rule, rename=True))


def test_renamed_catalogue_keeps_a_human_name_as_the_label():
    from contact_reasons.weekly import renamed_catalogue

    catalogue = pl.DataFrame(
        {
            "reason_id": [1, 2, 3],
            "generated_name": ["Kørekort før jul", "Pårørende ringer for mor", "Måler"],
            "name": [None, "Medicin til forældre", None],
            "label": ["Kørekort før jul", "Medicin til forældre", "Måler"],
        },
        schema_overrides={"name": pl.String},
    )
    names = pl.DataFrame(
        {"reason_id": [1, 2], "language": ["all", "all"], "name": ["Åbent i julen", "Medicin"]}
    )
    out = renamed_catalogue(catalogue, names)
    assert out["generated_name"].to_list() == ["Åbent i julen", "Medicin", "Måler"]
    assert out["label"].to_list() == ["Åbent i julen", "Medicin til forældre", "Måler"]


def test_call_candidates_are_short_calls_nearest_their_centre_first():
    texts = [
        "Opsigelse af abonnement.",  # nearest the centre
        "Kunden vil opsige sit abonnement fordi prisen er steget alt for meget i år",  # too long
        "Opsigelse sendt til [EMAIL]",  # a redaction placeholder
        "Opsigelse modtaget. Bekræftelse sendt",  # two sentences
        "Opsigelse pr 31",  # a number
        "opsigelse af abonnement",  # a repeat of the first
        "Vil opsige",
        "Faktura mangler",
    ]
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    vectors = np.array(
        [[1.0, 0.0], [1.0, 0.05], [1.0, 0.1], [1.0, 0.1], [1.0, 0.1], [0.9, 0.1], [0.6, 0.5]]
        + [[0.0, 1.0]],
        dtype=np.float32,
    )
    centres = {0: np.array([1.0, 0.0], dtype=np.float32), 1: np.array([0.0, 1.0], np.float32)}
    got = call_candidates(texts, labels, vectors, centres, max_words=8, per_reason=5)
    assert got[0] == ["Opsigelse af abonnement", "Vil opsige"]
    assert got[1] == ["Faktura mangler"]
    assert call_candidates(texts, labels, vectors, centres, per_reason=1)[0] == [
        "Opsigelse af abonnement"
    ]


def test_a_short_call_that_says_what_the_calls_are_about_can_be_the_name():
    # The calls share fragments ("ikke modtaget", "pakken"), but one caller's whole summary is
    # what the reason is about, nearest its centre and covering most calls.
    texts = ["Pakke ikke modtaget", "Pakken ikke modtaget endnu", "Pakken ikke modtaget, ringer"]
    texts += ["Faktura for høj", "Faktura højere end ventet", "Høj faktura"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    vectors = np.array(
        [
            [1.0, 0.0, 0.0],
            [0.9, 0.0, 0.3],
            [0.9, 0.0, 0.3],
            [0.0, 1.0, 0.0],
            [0.0, 0.9, 0.3],
            [0.0, 0.9, 0.3],
        ],
        dtype=np.float32,
    )
    centres = {0: np.array([1.0, 0.0, 0.0]), 1: np.array([0.0, 1.0, 0.0])}
    near = {"Pakke ikke modtaget": [1.0, 0.0, 0.0], "Faktura for høj": [0.0, 1.0, 0.0]}

    def embed(phrases):
        return np.asarray([near.get(p, [0.3, 0.3, 0.9]) for p in phrases], dtype=np.float32)

    phrases_only = phrase_names(texts, labels, centres=centres, embed=embed)
    assert phrases_only[0].name != "Pakke ikke modtaget"
    with_calls = phrase_names(
        texts, labels, centres=centres, embed=embed, rule=NameRule(calls=3), vectors=vectors
    )
    assert with_calls[0].name == "Pakke ikke modtaget"
    assert with_calls[1].name == "Faktura for høj"
    assert with_calls[0].share == 1.0
    # Without the texts' vectors (or with calls=0) the names are the phrases' as before.
    assert (
        phrase_names(
            texts, labels, centres=centres, embed=embed, rule=NameRule(calls=0), vectors=vectors
        )
        == phrases_only
    )


def test_short_calls_compete_for_names_by_default():
    cluster = Settings().cluster
    assert cluster.label_calls > 0
    assert cluster.label_call_words >= 4
    assert cluster.label_contrast == 1.0


def test_call_candidates_are_in_the_language_most_of_the_reasons_calls_are_in():
    texts = ["Mother's high bill", "Høj regning til mor", "Regning for høj", "Høj regning"]
    languages = ["en", "da", "da", "da"]
    labels = np.array([0, 0, 0, 0])
    vectors = np.array([[1.0, 0.0], [0.9, 0.3], [0.8, 0.5], [0.7, 0.6]], dtype=np.float32)
    centres = {0: np.array([1.0, 0.0], dtype=np.float32)}
    anywhere = call_candidates(texts, labels, vectors, centres)
    assert anywhere[0][0] == "Mother's high bill"
    own = call_candidates(texts, labels, vectors, centres, languages=languages)
    assert own[0] == ["Høj regning til mor", "Regning for høj", "Høj regning"]


def test_name_rule_holds_every_naming_setting():
    from dataclasses import fields

    from contact_reasons.cluster_settings import ClusterSettings
    from contact_reasons.naming import DEFAULT_RULE, SETTING_OF

    naming_settings = {
        f
        for f in ClusterSettings.model_fields
        if f.startswith(("label_", "name_")) and f not in {"label_phrases", "label_terms"}
    }
    assert set(SETTING_OF.values()) == naming_settings
    assert set(SETTING_OF) == {f.name for f in fields(NameRule)}
    assert NameRule() == DEFAULT_RULE == NameRule.from_settings(ClusterSettings())
    changed = {setting: (2 if "words" in setting else 0.3) for setting in naming_settings}
    changed |= {"label_calls": 3, "label_candidates": 7, "name_min_calls": 9}
    rule = NameRule.from_settings(ClusterSettings(**changed))
    assert {SETTING_OF[f.name]: getattr(rule, f.name) for f in fields(rule)} == changed


def _seeded_case():
    """A known reason (0, bills missing) and two new ones: bill amounts (1) and high bills (2).

    "Faktura" is as close to reason 1's centre as "beløb" but as close to the known reason too
    (only the contrast with the known reason's centre tells them apart); reason 2's call
    nearest its centre is its one Norwegian call.
    """
    texts = ["Faktura mangler", "Mangler faktura", "Faktura, mangler"]
    texts += ["Faktura beløb", "Beløb faktura", "Faktura, beløb"]
    texts += ["Høy regning igjen", "Høj regning til mor", "Regning for høj", "Høj regning"]
    languages = ["da"] * 6 + ["nb", "da", "da", "da"]
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    vectors = np.array(
        [[0.0, 1.0, 0.0, 0.0]] * 3
        + [[1.0, 0.0, 0.0, 0.0]] * 3
        + [[0.0, 0.0, 0.36, 0.93], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.7, 0.71], [0, 0, 0.1, 0.99]],
        dtype=np.float32,
    )
    near = {
        "Faktura": [0.75, 0.66, 0.0, 0.0],
        "beløb": [0.7, 0.0, 0.71, 0.0],
        "Beløb": [0.7, 0.0, 0.71, 0.0],
    }
    near |= {t: v.tolist() for t, v in zip(texts[6:], vectors[6:], strict=True)}

    def embed(phrases):
        return np.asarray([near.get(p, [0.0, 0.0, 1.0, 0.0]) for p in phrases], dtype=np.float32)

    return texts, languages, labels, vectors, embed


def test_seeded_discovery_names_a_new_reason_as_discovery_names_it():
    from contact_reasons.cluster import _unit, centroids
    from contact_reasons.naming import phrase_labels
    from contact_reasons.seeded import SeededDiscovery, name_seeded

    texts, languages, labels, vectors, embed = _seeded_case()
    settings = Settings().cluster
    found = SeededDiscovery(labels=labels, known=["Faktura mangler"], space=_unit(vectors))
    seeded = name_seeded(texts, vectors, found, settings, embed, languages)
    # Discovery's naming of the same partition (`cluster.discover_reasons`).
    ids, cents = centroids(_unit(vectors), labels)
    unseeded = phrase_labels(
        texts,
        labels,
        centres={int(r): cents[i] for i, r in enumerate(ids)},
        embed=embed,
        rule=NameRule.from_settings(settings),
        vectors=_unit(vectors),
        languages=languages,
    )
    assert seeded == {0: "Faktura mangler", 1: unseeded[1], 2: unseeded[2]}
    assert seeded[1] == "Beløb"
    assert seeded[2] != "Høy regning igjen"
    # The rule seeded discovery used to pass by hand (no contrast, no languages, new reasons
    # only) named both differently.
    new = np.where(labels >= 1, labels, -1)
    ids, cents = centroids(_unit(vectors), new)
    before = phrase_labels(
        texts,
        new,
        centres={int(r): cents[i] for i, r in enumerate(ids)},
        embed=embed,
        rule=NameRule(contrast=0.0),
        vectors=vectors,
    )
    assert before == {1: "Faktura", 2: "Høy regning igjen"}


def test_an_updates_new_reasons_are_named_by_the_settings_rule():
    import numpy as np

    from contact_reasons.catalogue import cluster_pool
    from contact_reasons.naming import NameRule

    rng = np.random.default_rng(0)
    texts = [
        *["Faktura ikke modtaget i e-boks"] * 4,
        *["Faktura ikke modtaget efter flytning"] * 3,
        *["Strøm afbrudt i hele huset"] * 4,
        *["Strøm afbrudt siden i morges"] * 3,
    ]
    base = np.eye(8)[[0] * 7 + [1] * 7] + rng.normal(scale=0.05, size=(14, 8))
    prepared = base / np.linalg.norm(base, axis=1, keepdims=True)

    def names(rule):
        found = cluster_pool(texts, prepared, min_calls=3, cohesion=0.5, rule=rule)
        return found.reasons["label"].to_list()

    default = names(None)
    short = names(NameRule(max_words=1))
    assert default == names(NameRule())
    assert max(len(n.split()) for n in short) < max(len(n.split()) for n in default)
