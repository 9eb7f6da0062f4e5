"""Redaction on the sample: recall per planted kind and the false-redaction rate.

Recall: every identifier in `truth/planted_pii.csv` (CPR, fødselsnummer, phones, e-mail, cards,
IBANs, accounts, names, birth dates, addresses, mistyped IBANs, reg.nr. + konto, Norwegian
kontonummer) must be gone from its call's text after `redact_text`; the target is 100 % per kind.

False redactions: ordinary tokens that must stay, counted per occurrence in the call texts:

- `numbers`: the amounts, appointment and delivery dates, times, order, case and customer
  numbers in `truth/ordinary_numbers.csv`;
- `words`: the capitalised words that the hand-written reason texts use inside a sentence
  (towns, countries, shops, airports, brands: "Spania", "Føtex", "Gardermoen", "MitID"), plus
  the lowercase place words "lufthavnen", "lufthavna", "airport"; an occurrence is eaten when
  the redacted text holds fewer of that word than the original;
- `dates`: written-out dates ("12. december", "fredag") are among the numbers above.

The target is at most 1 % of these tokens redacted.

    PYTHONPATH=$PWD python benchmarks/redaction.py [--sample data/sample] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl

from contact_reasons.ingest import read_inputs
from contact_reasons.redact import redact_text, redaction_report
from contact_reasons.redact_people import find_addresses
from contact_reasons.sample_data import FIRST_NAMES, LAST_NAMES

_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[^\W\d_] )[A-ZÆØÅ][^\W\d_]+")
_PLACE_WORDS = ("lufthavnen", "lufthavna", "airport")


def ordinary_words(reasons_dir: Path) -> set[str]:
    """Capitalised words used inside sentences of the hand-written reason texts.

    Words of a street address written into a reason text ("Møllevej 3, 1. tv, 8600 Silkeborg")
    and the sample's own person names ("Jensen" on a misspelt ticket) are personal data, not
    ordinary words, and are left out.
    """
    words: set[str] = set(_PLACE_WORDS)
    personal: set[str] = {
        n for names in (*FIRST_NAMES.values(), *LAST_NAMES.values()) for n in names
    }
    for path in sorted(reasons_dir.glob("*.json")):
        reason = json.loads(path.read_text(encoding="utf-8"))
        for part in ("phrasings", "summaries", "agent_answers"):
            for texts in reason[part].values():
                for text in texts:
                    words.update(_MID_SENTENCE_CAPITAL.findall(text))
                    filled = re.sub(r"\{[a-z_]+\}", "12", text)
                    for start, end in find_addresses(filled):
                        personal.update(re.findall(r"[^\W\d_]+", filled[start:end]))
    return words - personal


def _count(text: str, word: str) -> int:
    return len(re.findall(rf"(?<![\w]){re.escape(word)}(?![\w])", text))


def measure(sample: Path) -> dict[str, object]:
    """Recall per kind and false-redaction rates on the sample under `sample`."""
    calls = read_inputs([sample / "calls"]).calls
    planted = pl.read_csv(sample / "truth" / "planted_pii.csv", infer_schema=False)
    ordinary = pl.read_csv(sample / "truth" / "ordinary_numbers.csv", infer_schema=False)
    started = time.perf_counter()
    report = redaction_report(calls, planted, ordinary)
    seconds = time.perf_counter() - started
    kinds = Counter(planted["kind"].to_list())
    leaked = Counter(kind for kind, _ in report["leaked_values"])
    recall = {k: 1 - leaked.get(k, 0) / n for k, n in sorted(kinds.items())}

    words = ordinary_words(sample / "source" / "reasons")
    # Names planted in a call are not ordinary words there ("Strand" the surname).
    planted_words = {
        (str(r["call_id"]), str(r["field"]), w)
        for r in planted.iter_rows(named=True)
        for w in str(r["value"]).split()
    }
    seen = eaten = 0
    eaten_words: Counter[str] = Counter()
    for row in calls.select("call_id", "summary", "transcript").iter_rows(named=True):
        for column in ("summary", "transcript"):
            text = row[column] or ""
            present = [w for w in words if w in text and _count(text, w)]
            if not present:
                continue
            clean = redact_text(text)
            for word in present:
                if (str(row["call_id"]), column, word) in planted_words:
                    continue
                before, after = _count(text, word), _count(clean, word)
                seen += before
                eaten += max(0, before - after)
                if after < before:
                    eaten_words[word] += before - after
    numbers_seen = int(report["ordinary"])
    numbers_eaten = int(report["false_redactions"])
    return {
        "planted": report["planted"],
        "leaked": report["leaked"],
        "recall_by_kind": recall,
        "planted_by_kind": dict(sorted(kinds.items())),
        "leaked_values": report["leaked_values"][:20],
        "ordinary_numbers": numbers_seen,
        "ordinary_numbers_redacted": numbers_eaten,
        "ordinary_numbers_redacted_values": report["false_redacted_values"][:20],
        "ordinary_words": seen,
        "ordinary_words_redacted": eaten,
        "ordinary_words_redacted_top": eaten_words.most_common(20),
        "false_redaction_rate": (numbers_eaten + eaten) / max(1, numbers_seen + seen),
        "report_seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the measurement; exit 1 when a kind's recall is below 100 % or false > 1 %."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sample", type=Path, default=Path("data/sample"))
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = measure(args.sample)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        lines = ["kind                  planted  recall"]
        for kind, value in result["recall_by_kind"].items():  # type: ignore[attr-defined]
            n = result["planted_by_kind"][kind]  # type: ignore[index]
            lines.append(f"{kind:<20} {n:>8}  {value:7.2%}")
        lines.append(
            f"ordinary numbers: {result['ordinary_numbers_redacted']} of "
            f"{result['ordinary_numbers']} redacted "
            f"{result['ordinary_numbers_redacted_values']}"
        )
        lines.append(
            f"ordinary words: {result['ordinary_words_redacted']} of {result['ordinary_words']} "
            f"redacted {result['ordinary_words_redacted_top']}"
        )
        lines.append(f"false-redaction rate: {result['false_redaction_rate']:.3%}")
        sys.stdout.write("\n".join(lines) + "\n")
    recall = result["recall_by_kind"].values()  # type: ignore[attr-defined]
    ok = min(recall) == 1.0 and float(result["false_redaction_rate"]) <= 0.01  # type: ignore[arg-type]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
