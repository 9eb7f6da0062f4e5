"""FAQ units: FAQ pages split into question/answer units, from files, a CSV or a website.

A unit is one question a page answers: a heading and the text under it (the text between a page's
title and its first sub-heading is a unit whose question is the page title). Units keep their
page's url (or file path) and title, their language and the page's date, which is read from an
"Opdateret/Oppdatert/Updated" line, else the sitemap's `lastmod`, else an HTML meta date; with
none, it is filled later from the week the page was first read (`Database.sync_faq_units`).

Sources:
- a folder (or file) of Markdown or HTML pages;
- a CSV with columns `url,question,answer` (optional `title`, `date`, `language`);
- a website through its `sitemap.xml` over HTTP(S) (ultimate-sitemap-parser lists the pages,
  selectolax extracts their text).

Every unit carries a content hash, so storing the same pages again changes nothing.

With `redact` (the setting `faq.redact`, off by default), a unit's page title, question and
answer are redacted (`redact.redact_text`) before anything else, for FAQ sources that may name
people (an internal knowledge base); the company's own published phone numbers then read
"[PHONE]" too. Ids and hashes are taken from the redacted text, so reading the same pages again
still changes nothing; the page date is read from the page before redaction. Published pages
are read as written by default (docs/redaction.md, "FAQ pages").
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from contact_reasons.errors import InputError
from contact_reasons.language import detect_languages
from contact_reasons.redact import redact_text

PAGE_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
CSV_REQUIRED = ("url", "question", "answer")

#: Columns of a units frame, as the `faq_units` table stores them (less the store's timestamps).
UNIT_SCHEMA: dict[str, Any] = {
    "unit_id": pl.String,
    "url": pl.String,
    "page_title": pl.String,
    "question": pl.String,
    "answer": pl.String,
    "position": pl.Int32,
    "language": pl.String,
    "page_date": pl.Date,
    "page_date_source": pl.String,
    "content_hash": pl.String,
    "page_hash": pl.String,
}

_BOILERPLATE = "nav, header, footer, script, style, aside, noscript, form, template, svg"
_BLOCKS = "h1, h2, h3, h4, p, li, tr, dt, dd, blockquote, pre, figcaption"
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
_UPDATED = re.compile(
    r"^\W*(?:sidst\s+|senest\s+|sist\s+|last\s+)?"
    r"(?:opdateret|oppdatert|updated|ajourført|revideret|revidert)\s*[:.]?\s*(.+)$",
    re.IGNORECASE,
)
_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("januar", "january", "jan"),
            ("februar", "february", "feb"),
            ("marts", "mars", "march", "mar"),
            ("april", "apr"),
            ("maj", "mai", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "desember", "dec", "des"),
        ],
        start=1,
    )
    for name in names
}
_META_DATES = (
    "article:modified_time",
    "og:updated_time",
    "last-modified",
    "dcterms.modified",
    "datemodified",
    "article:published_time",
    "date",
    "dcterms.date",
    "datepublished",
)


@dataclass(frozen=True)
class _Block:
    level: int  # 1-4: a heading of that level; 0: body text
    text: str


@dataclass(frozen=True)
class PageDate:
    """A page's date and where it was read from."""

    value: date | None
    source: str | None  # text | lastmod | meta


def parse_date(text: str) -> date | None:
    """Parse a date as FAQ pages write it: ISO, 5.10.2026, 5. oktober 2026, October 5, 2026.

    A month and year alone ("marts 2021") is the first of that month. None when no date is found.
    """
    text = text.strip().lower()
    iso = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        return _safe_date(int(iso[1]), int(iso[2]), int(iso[3]))
    dotted = re.search(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b", text)
    if dotted:
        return _safe_date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
    words = re.findall(r"[a-zæøå]+|\d+", text)
    year = next((int(w) for w in words if w.isdigit() and len(w) == 4), None)
    month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
    if year is None or month is None:
        return None
    days = [int(w) for w in words if w.isdigit() and len(w) <= 2 and 1 <= int(w) <= 31]
    return _safe_date(year, month, days[0] if days else 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# -- splitting ---------------------------------------------------------------------------------


def _markdown_blocks(content: str) -> list[_Block]:
    blocks: list[_Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_Block(0, " ".join(paragraph)))
            paragraph.clear()

    for raw in content.splitlines():
        line = raw.strip()
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append(_Block(len(heading[1]), _clean_inline(heading[2])))
        elif not line:
            flush()
        elif re.match(r"^([-*+]|\d+[.)])\s+", line):
            flush()  # each list item is its own line of the answer
            paragraph.append(_clean_inline(re.sub(r"^([-*+])\s+", "", line)))
            flush()
        else:
            paragraph.append(_clean_inline(line))
    flush()
    return blocks


def _clean_inline(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](\S.*?\S|\S)[*_](?!\w)", r"\1", text)
    return re.sub(r"^>\s*", "", text).strip()


def _html_blocks(content: str) -> tuple[list[_Block], str, PageDate]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(content)
    title_node = tree.css_first("title")
    html_title = title_node.text(strip=True) if title_node else ""
    meta = _meta_date(tree)
    for node in tree.css(_BOILERPLATE):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    blocks: list[_Block] = []
    if root is None:
        return blocks, html_title, meta
    for node in root.css(_BLOCKS):  # document order; a node's own css() includes itself
        tag = node.tag or ""
        if tag not in ("h1", "h2", "h3", "h4") and len(node.css(_BLOCKS)) > 1:
            continue  # a list item or cell holding paragraphs: its paragraphs are read instead
        separator = " – " if tag == "tr" else " "
        if tag == "tr":
            text = separator.join(c.text(strip=True) for c in node.css("td, th"))
        else:
            text = node.text(separator=" ", strip=True)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            blocks.append(_Block(int(tag[1]) if tag in ("h1", "h2", "h3", "h4") else 0, text))
    return blocks, html_title, meta


def _meta_date(tree: Any) -> PageDate:
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if key in _META_DATES and attrs.get("content"):
            found.setdefault(key, str(attrs["content"]))
    for key in _META_DATES:
        if key in found and (value := parse_date(found[key])) is not None:
            return PageDate(value, "meta")
    for node in tree.css("time[datetime]"):
        value = parse_date(str(node.attributes.get("datetime") or ""))
        if value is not None:
            return PageDate(value, "meta")
    return PageDate(None, None)


def split_units(blocks: Sequence[_Block], fallback_title: str) -> tuple[str, list[dict], PageDate]:
    """Split a page's blocks into units; return its title, the units and its "Updated" date.

    The first level-1 heading (else the first heading) is the page title. Each later heading
    starts a unit; text before the first of them is a unit whose question is the title. A
    heading with no text of its own (one that only groups the next headings) makes no unit.
    """
    updated = PageDate(None, None)
    kept: list[_Block] = []
    for block in blocks:
        match = _UPDATED.match(block.text) if block.level == 0 else None
        if match and (value := parse_date(match[1])) is not None:
            updated = PageDate(value, "text")
            continue
        kept.append(block)
    title_at = next((i for i, b in enumerate(kept) if b.level == 1), None)
    if title_at is None:
        title_at = next((i for i, b in enumerate(kept) if b.level > 0), None)
    title = kept[title_at].text if title_at is not None else fallback_title
    rest = [b for i, b in enumerate(kept) if i != title_at]
    units: list[dict] = []
    question, answer = title, list[str]()

    def flush() -> None:
        if answer:
            units.append({"question": question, "answer": "\n".join(answer)})

    for block in rest:
        if block.level:
            flush()
            question, answer = block.text, []
        else:
            answer.append(block.text)
    flush()
    return title, units, updated


# -- readers -----------------------------------------------------------------------------------


def _unit_rows(
    url: str,
    title: str,
    units: list[dict],
    page_date: PageDate,
    page_hash: str,
    language: str | None = None,
    *,
    redact: bool = False,
) -> list[dict]:
    clean = redact_text if redact else str
    rows = []
    title = clean(title)
    for position, unit in enumerate(units):
        question = clean(unit["question"]).strip()
        answer = clean(unit["answer"]).strip()
        content = "\x1f".join(
            [url, title, question, answer, str(page_date.value or ""), language or ""]
        )
        rows.append(
            {
                "unit_id": _digest(f"{url}\x1f{position}\x1f{question}")[:16],
                "url": url,
                "page_title": title,
                "question": question,
                "answer": answer,
                "position": position,
                "language": language,
                "page_date": page_date.value,
                "page_date_source": page_date.source,
                "content_hash": _digest(content),
                "page_hash": page_hash,
            }
        )
    return rows


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def page_units(
    url: str, content: str, kind: str, lastmod: date | None = None, *, redact: bool = False
) -> list[dict[str, Any]]:
    """Split one page (`kind` "html" or "markdown") into unit rows (language not yet set).

    The page date is its "Updated" line, else `lastmod` (from a sitemap), else an HTML meta date.
    With `redact`, the units' text is redacted (see the module's docstring).
    """
    fallback = Path(url.rstrip("/").rsplit("/", 1)[-1]).stem.replace("-", " ").replace("_", " ")
    meta = PageDate(None, None)
    if kind == "html":
        blocks, html_title, meta = _html_blocks(content)
        fallback = html_title.split("|")[0].strip() or fallback
    else:
        blocks = _markdown_blocks(content)
    title, units, updated = split_units(blocks, fallback)
    if updated.value is None and lastmod is not None:
        updated = PageDate(lastmod, "lastmod")
    if updated.value is None:
        updated = meta
    if not units and title:
        units = [{"question": title, "answer": title}]
    return _unit_rows(url, title, units, updated, _digest(content), redact=redact)


def _with_language(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=UNIT_SCHEMA)
    if frame.height == 0:
        return frame
    missing = frame["language"].is_null().to_list()
    texts = [
        f"{t}\n{q}\n{a[:400]}"
        for t, q, a in zip(frame["page_title"], frame["question"], frame["answer"], strict=True)
    ]
    found = detect_languages([t for t, m in zip(texts, missing, strict=True) if m])
    it = iter(found)
    languages = [
        next(it) if m else lang for m, lang in zip(missing, frame["language"], strict=True)
    ]
    # A unit too short to tell takes its page's language.
    frame = frame.with_columns(pl.Series("language", languages, dtype=pl.String))
    page_lang = frame.group_by("url").agg(pl.col("language").drop_nulls().mode().first())
    return (
        frame.join(page_lang.rename({"language": "_page_lang"}), on="url", how="left")
        .with_columns(pl.coalesce("language", "_page_lang").alias("language"))
        .drop("_page_lang")
    )


def read_faq_folder(paths: Sequence[Path], *, redact: bool = False) -> pl.DataFrame:
    """Read Markdown and HTML pages from files or folders (recursively) into units.

    With `redact`, the units' text is redacted (see the module's docstring).

    Raises:
        InputError: a path does not exist, or a page is not UTF-8 text.
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path}: FAQ path does not exist")
    rows: list[dict[str, Any]] = []
    for file in sorted(set(files)):
        try:
            content = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: FAQ page is not UTF-8 ({exc})") from exc
        kind = "html" if file.suffix.lower() in (".html", ".htm") else "markdown"
        rows.extend(page_units(file.as_posix(), content, kind, redact=redact))
    return _with_language(rows)


def read_faq_csv(path: Path, *, redact: bool = False) -> pl.DataFrame:
    """Read units from a CSV with columns url, question, answer (optional title, date, language).

    With `redact`, the units' text is redacted (see the module's docstring).

    Raises:
        InputError: the file is missing or not UTF-8, lacks a column, or a row has an empty
            required value or an unreadable date (rows numbered from 1 after the header, as
            in call files).
    """
    rows: list[dict[str, Any]] = []
    for url, items in _csv_pages(path).items():
        title = next((i["title"].strip() for i in items if (i.get("title") or "").strip()), "")
        title = title or items[0]["question"].strip()
        dates = [i["_date"] for i in items if i["_date"].value is not None]
        page_date = max(dates, key=lambda d: d.value) if dates else PageDate(None, None)
        units = [{"question": i["question"], "answer": i["answer"]} for i in items]
        page_hash = _digest(repr([(i["question"], i["answer"]) for i in items]))
        language = next((i["language"] for i in items if (i.get("language") or "").strip()), None)
        rows.extend(_unit_rows(url, title, units, page_date, page_hash, language, redact=redact))
    return _with_language(rows)


def _csv_pages(path: Path) -> dict[str, list[dict[str, Any]]]:
    """A FAQ CSV's rows by page url, each with its parsed `_date`; every row checked.

    Raises:
        InputError: as `read_faq_csv` names it.
    """
    try:
        content = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: FAQ CSV does not exist") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: FAQ CSV is not UTF-8 ({exc})") from exc
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"{path}: FAQ CSV lacks column(s) {', '.join(missing)} "
            f"(has {', '.join(header) or 'no header'}; needs url, question, answer)"
        )
    reader.fieldnames = header
    pages: dict[str, list[dict[str, Any]]] = {}
    # Rows are numbered as call files number them (`ingest`): the header is row 0, the first
    # data row is row 1, blank lines are no rows and a quoted line break starts none.
    for row_no, row in enumerate(reader, start=1):
        for column in CSV_REQUIRED:
            if not (row.get(column) or "").strip():
                raise InputError(f"{path} row {row_no}: column {column!r} is empty")
        page_date = PageDate(None, None)
        if (row.get("date") or "").strip():
            value = parse_date(row["date"])
            if value is None:
                raise InputError(
                    f"{path} row {row_no}: column 'date' = {row['date']!r} is not a date "
                    "(expected e.g. 2026-10-05 or 5. oktober 2026)"
                )
            page_date = PageDate(value, "text")
        pages.setdefault(row["url"].strip(), []).append({**row, "_date": page_date})
    return pages


def read_faq_sitemap(
    sitemap_url: str, *, timeout: float = 30.0, session: Any = None, redact: bool = False
) -> pl.DataFrame:
    """Read every page a website's sitemap lists (sitemap indexes are followed) into units.

    With `redact`, the units' text is redacted (see the module's docstring).

    `sitemap_url` is the sitemap's address, or the site's address (its `/sitemap.xml` is read).
    The sitemap's `lastmod` dates the pages that carry no "Updated" line.

    Raises:
        InputError: the sitemap cannot be read or lists no page, or a page cannot be fetched.
    """
    import requests
    from usp.fetch_parse import SitemapFetcher
    from usp.objects.sitemap import InvalidSitemap
    from usp.web_client.requests_client import RequestsWebClient

    if not re.search(r"\.xml(\.gz)?$|sitemap", sitemap_url.rsplit("/", 1)[-1]):
        sitemap_url = sitemap_url.rstrip("/") + "/sitemap.xml"
    session = session or requests.Session()
    client = RequestsWebClient(session=session)
    tree = SitemapFetcher(url=sitemap_url, recursion_level=0, web_client=client).sitemap()
    if isinstance(tree, InvalidSitemap):
        raise InputError(f"{sitemap_url}: not a readable sitemap ({tree.reason})")
    pages: dict[str, date | None] = {}
    for page in tree.all_pages():
        modified = page.last_modified
        pages.setdefault(page.url, modified.date() if modified else None)
    if not pages:
        raise InputError(f"{sitemap_url}: the sitemap lists no pages")
    rows: list[dict[str, Any]] = []
    for url in sorted(pages):
        try:
            response = session.get(url, timeout=timeout)
        except requests.RequestException as exc:
            raise InputError(f"{url} (listed in {sitemap_url}): cannot fetch: {exc}") from exc
        if response.status_code != 200:
            raise InputError(
                f"{url} (listed in {sitemap_url}): HTTP {response.status_code} {response.reason}"
            )
        kind = "markdown" if url.endswith((".md", ".markdown", ".txt")) else "html"
        text = _decode(response.content, response.headers.get("content-type", ""))
        rows.extend(page_units(url, text, kind, lastmod=pages[url], redact=redact))
    return _with_language(rows)


def _decode(raw: bytes, content_type: str) -> str:
    """A fetched page's text: the charset the server or the page names, else UTF-8, else a guess.

    `requests` takes ISO-8859-1 for any text/* response without a charset, which garbles "Å".
    """
    candidates: list[str] = []
    header = re.search(r"charset=[\"']?([\w-]+)", content_type, re.IGNORECASE)
    meta = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", raw[:4096], re.IGNORECASE)
    if header:
        candidates.append(header[1])
    elif meta:
        candidates.append(meta[1].decode("ascii"))
    candidates.append("utf-8-sig")
    for encoding in candidates:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return str(best) if best is not None else raw.decode("utf-8", errors="replace")


def _as_url(source: str) -> str | None:
    # A URL that went through pathlib.Path has lost one slash ("http:/host"); take it back.
    match = re.match(r"^(https?):/+(.*)$", source)
    return f"{match[1]}://{match[2]}" if match else None


def check_sources(sources: Sequence[str | Path]) -> None:
    """Refuse a bad local FAQ source before a run spends its time on the calls.

    A source must be a URL or an existing file or folder; a CSV is read through (its columns,
    empty required values and dates), so that its error comes before the calls are read,
    redacted, embedded and clustered, not after.

    Raises:
        InputError: the first source that is neither a URL nor an existing file or folder, or
            the first error of a CSV source (as `read_faq_csv` names it).
    """
    for source in sources:
        if _as_url(str(source)) is not None:
            continue
        if not Path(source).exists():
            raise InputError(f"{source}: FAQ path does not exist")
        if str(source).lower().endswith(".csv"):
            _csv_pages(Path(source))  # its rows checked, no units built, no language detected


def read_faq_units(sources: Sequence[str | Path], *, redact: bool = False) -> pl.DataFrame:
    """Read FAQ units from every source: page folders or files, CSV files, or sitemap URLs.

    With `redact` (`faq.redact`), the units' text is redacted (see the module's docstring).

    Raises:
        InputError: a source cannot be read (see the readers).
    """
    frames = [pl.DataFrame(schema=UNIT_SCHEMA)]
    files: list[Path] = []
    for source in sources:
        url = _as_url(str(source))
        if url is not None:
            frames.append(read_faq_sitemap(url, redact=redact))
        elif str(source).lower().endswith(".csv"):
            frames.append(read_faq_csv(Path(source), redact=redact))
        else:
            files.append(Path(source))
    if files:
        frames.append(read_faq_folder(files, redact=redact))
    units = pl.concat(frames, how="vertical")
    return units.unique("unit_id", keep="first", maintain_order=True)


def page_documents(units: pl.DataFrame) -> pl.DataFrame:
    """One row per page (the `faq_documents` table): url, title, text, language, hash."""
    if units.height == 0:
        return pl.DataFrame(
            schema={
                "doc_id": pl.String,
                "path": pl.String,
                "title": pl.String,
                "text": pl.String,
                "language": pl.String,
                "sha256": pl.String,
            }
        )
    return (
        units.sort("url", "position")
        .group_by("url", maintain_order=True)
        .agg(
            pl.col("page_title").first().alias("title"),
            pl.concat_str("question", pl.lit("\n"), "answer").str.join("\n\n").alias("text"),
            pl.col("language").drop_nulls().mode().first().alias("language"),
            pl.col("page_hash").first().alias("sha256"),
        )
        .with_columns(pl.col("url").alias("doc_id"), pl.col("url").alias("path"))
        .select("doc_id", "path", "title", "text", "language", "sha256")
    )


def units_as_of(units: pl.DataFrame, first_read: dict[str, datetime]) -> pl.DataFrame:
    """Fill each page's missing date with the day its page was first read (`first_read` by url)."""
    read = pl.DataFrame(
        {"url": list(first_read), "_first": [d.date() for d in first_read.values()]},
        schema={"url": pl.String, "_first": pl.Date},
    )
    return (
        units.join(read, on="url", how="left")
        .with_columns(
            pl.when(pl.col("page_date").is_null() & pl.col("_first").is_not_null())
            .then(pl.lit("first_read"))
            .otherwise(pl.col("page_date_source"))
            .alias("page_date_source"),
            pl.coalesce("page_date", "_first").alias("page_date"),
        )
        .drop("_first")
    )
