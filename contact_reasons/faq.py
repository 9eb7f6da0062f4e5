"""FAQ gaps: which contact reasons the FAQ does not answer, or answers badly.

FAQ pages are Markdown or HTML files. Each reason's centroid (mean of its calls' vectors) is
compared with every page's vector. Raw cosines barely separate answered from unanswered reasons
(an embedding model puts every page near everything), so each page's similarities are centred
on its mean over all reasons: the margin by which a page is closer to one reason than to the
average reason. The best page's margin decides whether the reason is answered, answered badly
(improve the page) or not at all (a new page). Gaps are ranked by calls a page could save a week.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl

from contact_reasons.config import FaqSettings
from contact_reasons.errors import InputError
from contact_reasons.language import detect_languages

FAQ_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
_SKIP_TAGS = {"nav", "footer", "header", "script", "style", "aside", "noscript"}
_QUESTION = re.compile(r"[^.!?\n]{12,140}\?")
_TITLE_TEMPLATES = {
    "da": "Spørgsmål om {label}",
    "nb": "Spørsmål om {label}",
    "nn": "Spørsmål om {label}",
    "en": "Questions about {label}",
}
_FAQ_COLUMNS = {
    "doc_id": pl.String,
    "path": pl.String,
    "title": pl.String,
    "text": pl.String,
    "language": pl.String,
    "sha256": pl.String,
}


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in ("title", "h1"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag == self._in:
            self._in = None
        if tag in ("p", "li", "h1", "h2", "h3", "div", "br", "tr"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
            return
        if self.skip:
            return
        if self._in == "h1":
            self.h1 += data
        self.parts.append(data)


def parse_faq_page(path: Path, content: str) -> tuple[str, str]:
    """Return a page's title and plain text (HTML boilerplate such as nav and footer removed)."""
    if path.suffix.lower() in (".html", ".htm"):
        parser = _HtmlText()
        parser.feed(content)
        text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
        text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
        title = (parser.h1 or parser.title).strip() or path.stem
        return title, text
    lines = content.strip().splitlines()
    title = path.stem.replace("-", " ").replace("_", " ")
    for line in lines:
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            break
    body = re.sub(r"[*_`>#]+", "", content)
    return title, re.sub(r"\n\s*\n+", "\n\n", body).strip()


def read_faq_documents(paths: Sequence[Path]) -> pl.DataFrame:
    """Read FAQ pages from files or folders (recursively) into a frame, sorted by path.

    Raises:
        InputError: a path does not exist, or a page is not UTF-8 text.
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.suffix.lower() in FAQ_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path}: FAQ path does not exist")
    rows = []
    for file in sorted(set(files)):
        raw = file.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: FAQ page is not UTF-8 ({exc})") from exc
        title, text = parse_faq_page(file, content)
        rows.append(
            {
                "doc_id": file.as_posix(),
                "path": file.as_posix(),
                "title": title,
                "text": text,
                "language": None,
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        )
    documents = pl.DataFrame(rows, schema=_FAQ_COLUMNS)
    heads = [f"{t}\n{x[:500]}" for t, x in zip(documents["title"], documents["text"], strict=True)]
    languages = detect_languages(heads)
    return documents.with_columns(pl.Series("language", languages, dtype=pl.String))


def faq_passages(documents: pl.DataFrame, max_chars: int = 1500) -> list[str]:
    """Return the text embedded for each page: its title, then the start of its body."""
    return [
        f"{title}\n{text[:max_chars]}"
        for title, text in zip(documents["title"], documents["text"], strict=True)
    ]


def reason_centroids(
    call_reasons: pl.DataFrame, vectors: np.ndarray
) -> tuple[list[int], np.ndarray]:
    """Return reason ids (without -1) and the normalised mean vector of each one's calls.

    `call_reasons` rows are aligned with `vectors` rows.
    """
    labels = call_reasons["reason_id"].to_numpy()
    ids = sorted(int(r) for r in np.unique(labels) if r != -1)
    if not ids:
        return [], np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    cents = np.stack([vectors[labels == r].mean(axis=0) for r in ids])
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    return ids, cents.astype(np.float32)


def faq_recommendations(
    reasons: pl.DataFrame,
    calls: pl.DataFrame,
    call_reasons: pl.DataFrame,
    call_vectors: np.ndarray,
    documents: pl.DataFrame,
    doc_vectors: np.ndarray,
    settings: FaqSettings,
    weeks: int,
) -> pl.DataFrame:
    """Rank the reasons the FAQ does not answer, or answers badly.

    Args:
        reasons: `reason_id`, `label`, `language`.
        calls: `call_id`, `customer_text`, `reason_text` (redacted), aligned with nothing.
        call_reasons: `call_id`, `reason_id`, `similarity`, rows aligned with `call_vectors`.
        call_vectors: normalised vectors of the calls.
        documents: FAQ pages (`doc_id`, `title`).
        doc_vectors: normalised vectors of the pages, rows aligned with `documents`.
        settings: thresholds and deflection rates.
        weeks: weeks the calls span, to turn counts into calls a week.

    Returns:
        One row per gap (recommendation `new_page` or `improve_page`), ranked by estimated calls
        saved a week, columns as in the `faq_recommendations` table.
    """
    ids, cents = reason_centroids(call_reasons, call_vectors)
    if not ids:
        return _empty_recommendations()
    rows_ = np.arange(len(ids))
    if documents.height:
        sims = cents @ doc_vectors.T
        centred = sims - sims.mean(axis=0, keepdims=True) if len(ids) > 1 else sims
        best = centred.argmax(axis=1)
        best_sim, best_margin = sims[rows_, best], centred[rows_, best]
    else:
        best = np.zeros(len(ids), dtype=int)
        best_sim = best_margin = np.full(len(ids), -np.inf)
    texts = call_reasons.join(calls.select("call_id", "customer_text", "reason_text"), on="call_id")
    info = {r["reason_id"]: r for r in reasons.iter_rows(named=True)}
    rows = []
    for i, reason_id in enumerate(ids):
        margin = float(best_margin[i])
        if margin >= settings.answered_margin:
            continue
        improve = margin >= settings.partial_margin
        mine = texts.filter(pl.col("reason_id") == reason_id).sort(
            ["similarity", "call_id"], descending=[True, False]
        )
        n_calls = mine.height
        per_week = n_calls / max(weeks, 1)
        rate = settings.deflection_improve_page if improve else settings.deflection_new_page
        phrasings = _phrasings(mine, settings.phrasings_per_reason)
        meta = info.get(reason_id, {})
        label = str(meta.get("label", f"reason {reason_id}"))
        rows.append(
            {
                "reason_id": reason_id,
                "label": label,
                "recommendation": "improve_page" if improve else "new_page",
                "calls": n_calls,
                "calls_per_week": per_week,
                "estimated_calls_saved": round(per_week * rate, 1),
                "best_doc_id": documents["doc_id"][int(best[i])] if documents.height else None,
                "best_doc_title": documents["title"][int(best[i])] if documents.height else None,
                "similarity": float(best_sim[i]) if documents.height else None,
                "margin": margin if documents.height else None,
                "suggested_title": suggest_title(phrasings, label, meta.get("language")),
                "customer_phrasings": phrasings,
            }
        )
    if not rows:
        return _empty_recommendations()
    out = pl.DataFrame(rows).sort(["estimated_calls_saved", "reason_id"], descending=[True, False])
    return out.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int32))


def _phrasings(mine: pl.DataFrame, n: int) -> list[str]:
    """The customers' own words nearest the reason's centre, distinct, short enough to read."""
    seen: set[str] = set()
    out: list[str] = []
    for own, noted in zip(mine["customer_text"], mine["reason_text"], strict=True):
        text = (own or noted or "").strip()
        if len(text) > 220:
            text = text[:217].rsplit(" ", 1)[0] + "..."
        key = text.lower()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
        if len(out) >= n:
            break
    return out


def suggest_title(phrasings: Sequence[str], label: str, language: object = None) -> str:
    """Suggest a page title: a customer's own question if one was asked, else from the label."""
    for text in phrasings:
        match = _QUESTION.search(text)
        if match:
            question = re.sub(r"^\W*(og|and|men|but|så|so|altså|eh+|øh+|ja|nå)\b\W*", "", match[0])
            question = question.strip(" ,")
            if len(question.split()) >= 3:
                return question[0].upper() + question[1:]
    template = _TITLE_TEMPLATES.get(str(language), _TITLE_TEMPLATES["en"])
    first = label.split()[0] if label.split() else ""
    proper = any(c.isupper() for c in first[1:])  # "TV og internet nede", "MitID virker ikke"
    return template.format(label=label if proper else label[:1].lower() + label[1:])


def _empty_recommendations() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "rank": pl.Int32,
            "reason_id": pl.Int32,
            "label": pl.String,
            "recommendation": pl.String,
            "calls": pl.Int64,
            "calls_per_week": pl.Float64,
            "estimated_calls_saved": pl.Float64,
            "best_doc_id": pl.String,
            "best_doc_title": pl.String,
            "similarity": pl.Float64,
            "margin": pl.Float64,
            "suggested_title": pl.String,
            "customer_phrasings": pl.List(pl.String),
        }
    )
