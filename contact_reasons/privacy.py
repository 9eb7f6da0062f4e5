"""Less to lose: re-redact what is already stored, and delete calls past their retention.

`redact_frame` is a pure stage (frame in, frame out); `redact_database` and `purge_database`
drive it and `storage.Database` in one transaction each, and record what they did in `runs`
(status `redact` or `purge`, the counts as JSON in `inputs`).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.embed import text_hash
from contact_reasons.errors import InputError
from contact_reasons.naming import reason_label
from contact_reasons.reason_model import rewrite_manifest
from contact_reasons.redact import redact_text
from contact_reasons.storage import TABLES, Database

#: Tables without customers' text: the company's own FAQ pages (read again from their source
#: by each run, redacted then when `faq.redact` is set), the schema and vectors.
_SKIP_TABLES = frozenset({"schema_version", "embeddings", "faq_documents", "faq_units"})


def _redact_value(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact(v) if isinstance(v, str) else v for v in value]
    return value


def redact_frame(
    frame: pl.DataFrame, columns: Sequence[str], redact: Callable[[str], str] = redact_text
) -> pl.DataFrame:
    """Return the rows of `frame` whose text changed under `redact`, with the new text.

    Args:
        frame: `__rowid` plus the text columns (String or List[String]); it is not changed.
        columns: the text columns to redact.
        redact: the redaction function (default `redact_text`).

    Returns:
        `__rowid` and `columns` for the changed rows only; when `reason_text` is among the
        columns, also `text_hash` recomputed from the new text (the embedding cache key).
    """
    if frame.height == 0 or not columns:
        return frame.select("__rowid", *columns).head(0)
    new = {c: [_redact_value(v, redact) for v in frame[c].to_list()] for c in columns}
    old = {c: frame[c].to_list() for c in columns}
    changed = [i for i in range(frame.height) if any(new[c][i] != old[c][i] for c in columns)]
    out = pl.DataFrame(
        {"__rowid": frame["__rowid"].gather(changed)}
        | {c: pl.Series(c, [new[c][i] for i in changed], dtype=frame.schema[c]) for c in columns}
    )
    if "reason_text" in columns:
        out = out.with_columns(
            pl.Series(
                "text_hash", [text_hash(t or "") for t in out["reason_text"].to_list()], pl.String
            )
        )
    return out


def _keeping_call_ids(redact: Callable[[str], str]) -> Callable[[str], str]:
    """`redact` for an event's JSON (`reason_events.before/after`): its text, not its call ids.

    The lists under `calls` are call ids (keys: `undo` moves those calls back); every other
    string is redacted. A value with nothing to redact is returned as it was, byte for byte.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k == "calls" else walk(v) for k, v in value.items()}
        return value

    def redact_event(text: str) -> str:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return redact(text)
        clean = walk(document)
        if clean == document:
            return text
        return json.dumps(clean, ensure_ascii=False, default=str)

    return redact_event


def faq_vector_keys(db: Database) -> list[str]:
    """The cache keys of the stored FAQ units' vectors, under either prompt.

    They are the company's published pages, no call's words: a `redact` or `purge` that drops
    the vectors no call uses keeps these (the next run would only embed the same pages again).
    """
    from contact_reasons import faq
    from contact_reasons.embed import cache_key

    passages = faq.faq_passages(db.faq_units())
    return [cache_key(p, kind) for kind in ("query", "passage") for p in passages]


def redact_database(db: Database, redact: Callable[[str], str] = redact_text) -> dict[str, int]:
    """Re-redact every free-text column of every table, in one transaction.

    Calls whose reason text changes get a new `text_hash`; cached vectors that no call uses
    any more are dropped (the next run embeds the new text), but the FAQ units'. The change is
    recorded in `runs` with status `redact`.

    Returns:
        Rows changed per table, and `embeddings` for the cached vectors dropped.
    """
    counts: dict[str, int] = {}
    with db.transaction():
        for table in TABLES:
            if table in _SKIP_TABLES:
                continue
            columns = db.text_columns(table)
            if not columns:
                continue
            redactor = _keeping_call_ids(redact) if table == "reason_events" else redact
            changed = redact_frame(db.read_with_rowid(table, columns), columns, redactor)
            db.update_rows(table, changed)
            counts[table] = changed.height
        counts["embeddings"] = db.drop_unreferenced_embeddings(faq_vector_keys(db))
        db.record_maintenance("redact", {"command": "redact", "changed": counts})
    return counts


def parse_day(value: str) -> datetime:
    """Parse `YYYY-MM-DD` as midnight UTC, naming the bad value when it is not a date."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--before {value!r} is not a date (expected YYYY-MM-DD)") from exc
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def retention_cutoff(now: datetime, months: int) -> datetime:
    """`now` minus `months` calendar months (the day clamped to the month's end), in UTC.

    Calls started before it are past a retention of `months` months.
    """
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    year, month = divmod(now.year * 12 + (now.month - 1) - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def purge_database(db: Database, before: datetime) -> dict[str, int]:
    """Delete calls started before `before`, and everything they said verbatim.

    Deletes the calls with their embeddings, assignments (current and earlier) and quarantine.
    Weekly aggregates stay, but no text the purged calls said stays with them: FAQ phrasings
    and questions only purged calls said are dropped, a title or reason name only they said is
    rewritten, and their ids leave every list of example calls and the event log
    (`scrub_purged`). Runs in one transaction and is recorded in `runs` with status `purge`,
    the cut-off, the rows deleted and the rows rewritten per table.

    Returns:
        Rows deleted per table, then `rewritten <table>`: rows rewritten per table.
    """
    manifests: list[tuple[str | None, str]] = []
    with db.transaction():
        purged = db.call_texts(before)
        counts = db.purge_before(before, faq_vector_keys(db))
        rewritten: dict[str, int] = {}
        if purged.height:
            said = Verbatim(_texts(purged))
            kept: list[Verbatim] = []  # read only when a purged call said something stored

            def only_purged(text: str) -> bool:
                if not said.says(text):
                    return False
                if not kept:
                    kept.append(Verbatim(_texts(db.call_texts())))
                return not kept[0].says(text)

            frames = {t: db.read_with_rowid(t, list(c)) for t, c in _SCRUBBED.items()}
            changes, deletes = scrub_purged(frames, set(purged["call_id"].to_list()), only_purged)
            for table, changed in changes.items():
                db.update_rows(table, changed)
                rewritten[table] = changed.height
            if "reason_models" in changes:  # the model folders' manifests too, once committed
                paths = frames["reason_models"].select("__rowid", "path")
                for row in changes["reason_models"].join(paths, on="__rowid").iter_rows():
                    manifests.append((row[2], row[1]))
            for table, rowids in deletes.items():
                counts[table] = db.delete_rows(table, rowids)
        db.record_maintenance(
            "purge",
            {
                "command": "purge",
                "before": before.isoformat(),
                "deleted": counts,
                "rewritten": rewritten,
            },
        )
    for path, text in manifests:
        rewrite_manifest(path, text)
    return counts | {f"rewritten {t}": n for t, n in rewritten.items()}


# --- what purged calls said -----------------------------------------------------------------

#: The call columns FAQ phrasings, callers' questions and reason names are taken from.
_SOURCES = ("reason_text", "customer_text", "wrapup_code")

#: Tables (and their columns) that may hold words of a call or its id, besides `calls`.
_SCRUBBED: dict[str, tuple[str, ...]] = {
    "reasons": (
        "reason_id",
        "generated_name",
        "name",
        "label",
        "keywords",
        "example_call_ids",
        "examples_by_language",
    ),
    "reason_names": ("reason_id", "name"),
    "weekly_reason_stats": ("reason_id", "label", "example_call_ids"),
    "alerts": ("reason_id", "label"),
    "faq_recommendations": (
        "reason_id",
        "label",
        "language",
        "suggested_title",
        "customer_phrasings",
        "unanswered_questions",
        "example_call_ids",
    ),
    "reason_events": ("reason_ids", "before", "after"),
    "reason_models": ("manifest", "path"),
}

_WORDS = re.compile(r"[^\W_]+")
# A question `faq._as_question` turned direct: "hvordan jeg sier opp" -> "hvordan sier jeg opp".
_ASKING = frozenset("hvordan hvorfor hvornår hvor hvad hva når how why when where what".split())
_PERSONS = frozenset("jeg man vi du dere we you".split())


def _texts(calls: pl.DataFrame) -> list[str]:
    return [t for c in _SOURCES for t in calls[c].to_list() if t]


def _key(text: str) -> str:
    """A text as `Verbatim` compares it: lower case, its words only (as FAQ phrasings are)."""
    return " ".join(_WORDS.findall(text.lower()))


class Verbatim:
    """Whether a stored phrase was said, word for word, in any of a set of call texts.

    Compared as FAQ phrasings compare (lower case, words only, so punctuation, case and line
    breaks do not count), whole words only. A phrasing cut with "..." or a title cut at 140
    characters may end inside the text; a question `faq` made direct ("Hvordan sier jeg
    opp?" from "hvordan jeg sier opp") is also looked for in the order it was said.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self._block = "\n".join(f" {_key(t)} " for t in texts)

    def says(self, phrase: str) -> bool:
        """Whether `phrase` was said in one of the texts, word for word."""
        text = phrase.strip()
        cut = text.endswith("...") or len(text.rstrip("?")) >= 139
        words = _key(text.removesuffix("...")).split()
        if not words:
            return False
        orders = [words]
        if len(words) >= 3 and words[0] in _ASKING and words[2] in _PERSONS:
            orders.append([words[0], words[2], words[1], *words[3:]])
        return any(f" {' '.join(w)}{'' if cut else ' '}" in self._block for w in orders)


def scrub_purged(
    frames: dict[str, pl.DataFrame],
    purged_ids: set[str],
    only_purged: Callable[[str], bool],
    label_terms: int = ClusterSettings().label_terms,
) -> tuple[dict[str, pl.DataFrame], dict[str, list[int]]]:
    """What of the purged calls is left in the tables derived from them, and how it goes.

    Args:
        frames: `__rowid` and the columns `_SCRUBBED` names, per table.
        purged_ids: the ids of the purged calls.
        only_purged: whether a text was said verbatim by a purged call and by no other.
        label_terms: keywords a reason's keyword name joins (`cluster.label_terms`).

    Returns:
        Per table, the changed rows (`__rowid` and the columns rewritten), and per table the
        `__rowid`s of rows to delete. The choices:

        - `faq_recommendations`: a customer phrasing or open question only purged calls said
          is dropped; a suggested title only they said is written again from the phrasings
          left, else from the reason's name (`faq.rank_titles`).
        - `reasons`: a generated name only purged calls said becomes the reason's keyword
          name (as `cluster.label_phrases = false` names it; keywords are counts over all its
          calls, kept), else "Reason <id>"; a human name stays (a person wrote it).
        - `reason_names`: such a name in a language is deleted (reports then show the reason's
          default name there, as for a language without one).
        - `weekly_reason_stats`, `alerts`, `faq_recommendations`: such a label becomes the
          reason's current one.
        - `reason_events` (JSON): such a `label` or `generated_name` becomes the reason's
          current generated name (so `undo` restores a name that is there), or "[PURGED]" for
          a reason unknown; in `reason_models.manifest` (the fitted model's own reason ids
          and keywords), its keyword name.
        - Purged call ids leave `example_call_ids`, `examples_by_language` and the events'
          `calls` lists.
    """
    from contact_reasons.faq import rank_titles  # scipy: only when something was purged

    memo: dict[str, bool] = {}

    def said(text: str | None) -> bool:
        if not text:
            return False
        if text not in memo:
            memo[text] = only_purged(text)
        return memo[text]

    def ids(values: Sequence[str] | None) -> list[str] | None:
        return None if values is None else [v for v in values if v not in purged_ids]

    changes: dict[str, pl.DataFrame] = {}
    deletes: dict[str, list[int]] = {}
    generated: dict[int, str] = {}
    current: dict[int, str] = {}

    reasons = frames["reasons"]
    out: list[dict[str, Any]] = []
    for row in reasons.iter_rows(named=True):
        rid = int(row["reason_id"])
        name = row["generated_name"]
        if said(name):
            name = reason_label(row["keywords"] or [], label_terms, fallback=f"Reason {rid}")
            if said(name):
                name = f"Reason {rid}"
        label = row["label"]
        if said(label) and label != row["name"]:
            label = row["name"] or name
        by_language = row["examples_by_language"]
        if by_language:
            lists = json.loads(by_language)
            clean = {k: ids(v) if isinstance(v, list) else v for k, v in lists.items()}
            if clean != lists:
                by_language = json.dumps(clean, ensure_ascii=False)
        new = {
            "generated_name": name,
            "label": label,
            "example_call_ids": ids(row["example_call_ids"]),
            "examples_by_language": by_language,
        }
        generated[rid] = name or row["label"]
        current[rid] = label
        if any(new[c] != row[c] for c in new):
            out.append({"__rowid": row["__rowid"], **new})
    _changed(changes, "reasons", reasons, out)

    deletes["reason_names"] = [
        r["__rowid"] for r in frames["reason_names"].iter_rows(named=True) if said(r["name"])
    ]

    def relabel(rid: int, label: str) -> str:
        return (current.get(rid) or f"Reason {rid}") if said(label) else label

    for table in ("weekly_reason_stats", "alerts"):
        frame = frames[table]
        out = []
        for row in frame.iter_rows(named=True):
            new = {"label": relabel(int(row["reason_id"]), row["label"])}
            if "example_call_ids" in row:
                new["example_call_ids"] = ids(row["example_call_ids"])
            if any(new[c] != row[c] for c in new):
                out.append({"__rowid": row["__rowid"], **new})
        _changed(changes, table, frame, out)

    frame = frames["faq_recommendations"]
    out = []
    for row in frame.iter_rows(named=True):
        label = relabel(int(row["reason_id"]), row["label"])
        phrasings = [p for p in row["customer_phrasings"] or [] if not said(p)]
        questions = [q for q in row["unanswered_questions"] or [] if not said(q)]
        title = row["suggested_title"]
        if said(title):
            # The open questions may be other reasons' (calls the best unit leaves open):
            # the reason's own phrasings left, else its name.
            titles = rank_titles([], phrasings, label, row["language"])
            title = next((t for t in titles if not said(t)), "")
        new = {
            "label": label,
            "suggested_title": title,
            "customer_phrasings": phrasings,
            "unanswered_questions": questions if row["unanswered_questions"] is not None else None,
            "example_call_ids": ids(row["example_call_ids"]),
        }
        if any(new[c] != row[c] for c in new):
            out.append({"__rowid": row["__rowid"], **new})
    _changed(changes, "faq_recommendations", frame, out)

    def named(rid: int | None) -> str:
        return generated.get(rid, "[PURGED]") if rid is not None else "[PURGED]"

    def keyword_name(words: list[str], rid: int | None) -> str:
        fallback = "[PURGED]" if rid is None else f"Reason {rid}"
        name = reason_label([str(w) for w in words], label_terms, fallback=fallback)
        return fallback if said(name) else name

    frame = frames["reason_events"]
    out = []
    for row in frame.iter_rows(named=True):
        rids = row["reason_ids"] or []
        one = int(rids[0]) if len(rids) == 1 else None
        new = {
            c: _scrub_json(row[c], one, purged_ids, said, named, keyword_name)
            for c in ("before", "after")
        }
        if any(new[c] != row[c] for c in new):
            out.append({"__rowid": row["__rowid"], **new})
    _changed(changes, "reason_events", frame, out)

    frame = frames["reason_models"]
    out = []
    for row in frame.iter_rows(named=True):
        manifest = _scrub_json(
            row["manifest"], None, purged_ids, said, named, keyword_name, indent=2
        )
        if manifest != row["manifest"]:
            out.append({"__rowid": row["__rowid"], "manifest": manifest})
    _changed(changes, "reason_models", frame, out)
    return changes, {t: r for t, r in deletes.items() if r}


def _changed(
    changes: dict[str, pl.DataFrame], table: str, frame: pl.DataFrame, rows: list[dict[str, Any]]
) -> None:
    if rows:
        columns = [c for c in rows[0] if c != "__rowid"]
        schema = {"__rowid": frame.schema["__rowid"]} | {c: frame.schema[c] for c in columns}
        changes[table] = pl.DataFrame(rows, schema=schema)


def _scrub_json(
    text: str | None,
    rid: int | None,
    purged_ids: set[str],
    said: Callable[[str | None], bool],
    named: Callable[[int | None], str],
    keyword_name: Callable[[list[str], int | None], str],
    indent: int | None = None,
) -> str | None:
    """A JSON document without purged call ids (under `calls`) and names only they said."""
    if not text:
        return text
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return text

    def calls(value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in value if not (isinstance(v, str) and v in purged_ids)]
        if isinstance(value, dict):
            return {k: calls(v) for k, v in value.items()}
        return value

    def walk(value: Any, rid: int | None) -> Any:
        if isinstance(value, list):
            return [walk(v, rid) for v in value]
        if not isinstance(value, dict):
            return value
        own = value.get("reason_id")
        rid = int(own) if isinstance(own, int) else rid
        out = {}
        for key, item in value.items():
            if key == "calls":
                out[key] = calls(item)
            elif key == "reasons" and isinstance(item, dict):
                out[key] = {
                    k: walk(v, int(k) if k.lstrip("-").isdigit() else rid) for k, v in item.items()
                }
            elif key in ("label", "generated_name") and isinstance(item, str) and said(item):
                # A manifest's reasons carry their keywords (and the model's own ids, not the
                # catalogue's): their keyword name; an event's, the reason's generated name.
                words = value.get("keywords")
                out[key] = named(rid) if not isinstance(words, list) else keyword_name(words, rid)
            else:
                out[key] = walk(item, rid)
        return out

    clean = walk(document, rid)
    if clean == document:
        return text
    return json.dumps(clean, ensure_ascii=False, default=str, indent=indent)


def apply_retention(db: Database, months: int | None, now: datetime) -> dict[str, int] | None:
    """Purge calls older than `months` calendar months before `now`; None when `months` is None.

    The weekly flow calls this at its end with `storage.retention_months`.
    """
    if months is None:
        return None
    return purge_database(db, retention_cutoff(now, months))
