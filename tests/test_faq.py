from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons.config import FaqSettings
from contact_reasons.errors import InputError
from contact_reasons.faq import faq_recommendations, read_faq_documents, suggest_title


def test_markdown_and_html_pages(tmp_path: Path):
    (tmp_path / "a.md").write_text("# Hvordan flytter jeg?\n\nDu flytter **sådan** her.\n")
    (tmp_path / "b.html").write_text(
        "<html><head><title>T</title></head><body><nav>Menu Forside</nav>"
        "<h1>Åbningstider i julen</h1><p>Vi har åbent 27.-30. december.</p>"
        "<footer>© Firma</footer></body></html>"
    )
    docs = read_faq_documents([tmp_path])
    assert docs["title"].to_list() == ["Hvordan flytter jeg?", "Åbningstider i julen"]
    assert docs["language"].to_list() == ["da", "da"]
    html_text = docs["text"][1]
    assert "27.-30. december" in html_text
    assert "Menu" not in html_text
    assert "©" not in html_text


def test_missing_faq_path_is_an_error(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        read_faq_documents([tmp_path / "nope"])


def test_gaps_ranked_and_answered_reasons_left_out():
    vec = np.eye(3, dtype=np.float32)
    calls = pl.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(6)],
            "customer_text": ["Hvornår kommer min pakke?", None, "x", "y", "z", "w"],
            "reason_text": ["pakke", "pakke 2", "faktura", "faktura", "faktura", "flyt"],
        }
    )
    call_reasons = pl.DataFrame(
        {"call_id": calls["call_id"], "reason_id": [1, 1, 2, 2, 2, 3], "similarity": [1.0] * 6}
    )
    vectors = np.stack([vec[0], vec[0], vec[1], vec[1], vec[1], vec[2]])
    docs = pl.DataFrame({"doc_id": ["flyt.md"], "title": ["Flytning"]})
    doc_vectors = vec[2:3]  # the FAQ answers reason 3 only
    reasons = pl.DataFrame(
        {"reason_id": [1, 2, 3], "label": ["Pakke", "Faktura", "Flytning"], "language": ["da"] * 3}
    )
    gaps = faq_recommendations(
        reasons, calls, call_reasons, vectors, docs, doc_vectors, FaqSettings(), weeks=1
    )
    assert gaps["reason_id"].to_list() == [2, 1]  # most calls first; reason 3 is answered
    assert gaps["rank"].to_list() == [1, 2]
    assert set(gaps["recommendation"]) == {"new_page"}
    assert (
        gaps.filter(pl.col("reason_id") == 1)["suggested_title"][0] == "Hvornår kommer min pakke?"
    )


def test_title_falls_back_to_label_in_the_reasons_language():
    assert (
        suggest_title(["ingen spørgsmål her"], "Faktura for høj", "da")
        == "Spørgsmål om faktura for høj"
    )
    assert suggest_title([], "Lost card", "en") == "Questions about lost card"
    assert suggest_title([], "TV og internet nede", "da") == "Spørgsmål om TV og internet nede"
    assert suggest_title([], "MitID virker ikke", "da") == "Spørgsmål om MitID virker ikke"
