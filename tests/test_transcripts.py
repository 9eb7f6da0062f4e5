import json

import polars as pl

from contact_reasons.transcripts import add_reason_text, customer_reason_text, parse_transcript

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
