"""Personal-data redaction: find Nordic identifiers in free text and replace them.

Every identifier found is replaced by a typed placeholder (`[CPR]`, `[FNR]`, `[PHONE]`,
`[EMAIL]`, `[CARD]`, `[IBAN]`, `[ACCOUNT]`) so that the words around it, which carry the
contact reason, stay readable for embedding and topic naming.

Matching runs in a fixed order and a later kind never takes characters an earlier kind took:

1. e-mail addresses;
2. IBANs (any country code, with or without spaces, mod-97 valid);
3. payment cards (13-19 digits, plain or in space/dash groups, Luhn valid, first digit 2-6);
4. phones with an international prefix (`+45`, `0045`, `+47`, `0047`, any other `+CC`);
5. Norwegian fødselsnummer, D- and H-numbers (11 digits, valid date, both mod-11 checks), and
   any 11 digits right after a cue such as "fødselsnummer" or "fnr";
6. Danish CPR numbers (`DDMMYY-XXXX`, `DDMMYYXXXX`, `DDMMYY XXXX`, valid day and month; no
   mod-11 check, since modern CPR numbers need not satisfy it), and any 10 digits after "cpr";
7. Norwegian account numbers (`1234.56.78903`, `1234 56 78903`, or 11 plain digits that pass
   the mod-11 check);
8. Danish account numbers (4-digit reg.nr, a space or dash, 6-10 digits), and any digit group
   of 7-24 characters right after "konto", "kontonummer", "reg.nr" or "account" (only
   "er", "nr", ":" and the like may stand between);
9. national phones written in a phone spelling: `12 34 56 78` (also with `.` or `-`),
   `912 34 567`, `1234 5678`;
10. bare 8-digit numbers, by the rule below.

**The bare 8-digit rule.** A number of exactly 8 digits with no prefix and no grouping is
ambiguous: it can be a phone or an order number, invoice number or amount. Look at the 40
characters before it (widened to whole words) for keywords. If the nearest keyword is a
*number word* ("kr", "kroner", "ordre", "faktura", "ordrenummer", "kundenummer", "order",
"invoice", "reference", "#", ...), it is not a phone. If the nearest keyword is a *phone cue*
("tlf", "telefon", "nummer", "ring", "mobil", "phone", "call me", "sms", ...), it is a phone.
With no keyword before it, it is a phone when a phone cue follows within 20 characters
("12345678 er mit mobilnummer"), or when it starts with 2-9 (Danish numbers start with 2-9,
Norwegian mobiles with 4 or 9) unless it is followed by a currency word or reads as a date
(`YYYYMMDD` or `DDMMYYYY` with a year in 1990-2039). So numbers starting with 0 or 1 survive
unless a cue is near them. The aim: no phone leaks, few ordinary numbers eaten.

Amounts (`2.340 kr`, `1.234,50`), dates (`12.03.2026`, `12/03/2026`, `2026-03-12`), times,
postcodes and house numbers match none of the patterns and survive.

`redact_text` applies the replacement until nothing more is found, so it is idempotent by
construction: each round removes at least one digit or `@`, and placeholders hold neither.
"""

from __future__ import annotations

import calendar
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from contact_reasons.errors import InputError
from contact_reasons.redact_people import find_addresses, find_birth_dates, find_names

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

Kind = Literal[
    "CPR", "FNR", "PHONE", "EMAIL", "CARD", "IBAN", "ACCOUNT", "NAME", "DATE_OF_BIRTH", "ADDRESS"
]

KINDS: tuple[Kind, ...] = (
    "CPR",
    "FNR",
    "PHONE",
    "EMAIL",
    "CARD",
    "IBAN",
    "ACCOUNT",
    "NAME",
    "DATE_OF_BIRTH",
    "ADDRESS",
)
"""Every kind of identifier; each is replaced by `[KIND]`."""


@dataclass(frozen=True, slots=True)
class Match:
    """One identifier found in a text: its kind and where it lies (`text[start:end] == value`)."""

    kind: Kind
    start: int
    end: int
    value: str


# --- patterns ----------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]*\w@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")

#: Two letters, two check digits, 11-30 letters and digits (spaces allowed), at every start
#: position (overlapping), for the check-digit finder.
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])(?=([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}))")
# IBAN by shape alone (a mistyped check digit is still the customer's account): compact, or in
# the printed groups of four.
_IBAN_SHAPE = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2})\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)"
    r"(?![A-Za-z0-9])"
)

# Digit groups joined by a single space or dash: candidate card numbers.
_DIGIT_GROUPS = re.compile(r"(?<![\d])\d+(?:[ -]\d+)*(?![\d])")

_PHONE_INTL_NORDIC = re.compile(
    r"(?<![\w+])(?:\(?\+\s?|(?<!\d)00)(?:45|47)\)?[\s.-]?\d(?:[ .-]?\d){7}(?!\d)"
)
_PHONE_INTL_OTHER = re.compile(r"(?<![\w+])\+\s?\d{1,3}\)?(?:[ .-]?\d){6,12}(?![\d])")

_FNR = re.compile(r"(?<![\d.,-])(\d{6})[ -]?(\d{5})(?![\d])(?![.,]\d)")
_FNR_CUE = re.compile(
    r"(?i)\b(?:fødselsnummer|fødselsnr|fnr|f\.nr|personnummer|personnr|d-nummer|d-nr)\b"
    r"[^\d\n]{0,15}?(\d{6}[ -]?\d{5})(?!\d)"
)
_CPR = re.compile(r"(?<![\d.,/-])(\d{2})(\d{2})(\d{2})[ -]?(\d{4})(?![\d])(?![.,/-]\d)")
_CPR_CUE = re.compile(
    r"(?i)\b(?:cpr|cpr-nr|cpr-nummer|cprnr|personnummer|personnr)\b"
    r"[^\d\n]{0,15}?(\d{6}[ -]?\d{4})(?!\d)"
)

# Danish reg.nr. and account number given apart: "reg. 1234 konto 0001234567".
_ACCOUNT_REG_KONTO = re.compile(
    r"(?i)\b(?:reg(?:istrerings)?\.?\s?(?:nr|nummer)?\.?)[\s:.#-]*(?:er\s+)?"
    r"(\d{4}[\s,/-]*(?:(?:og|and|,)\s*)?(?:(?:konto(?:nummer|nr)?|kontonr|account"
    r"(?:\s+(?:number|no))?)\.?[\s:.#-]*(?:er\s+|is\s+)?)?\d{6,10})(?![\d])"
)
_ACCOUNT_NO_GROUPED = re.compile(r"(?<![\d.,])\d{4}([. ])\d{2}\1\d{5}(?![\d])(?![.,]\d)")
_ACCOUNT_NO_PLAIN = re.compile(r"(?<![\d.,-])\d{11}(?![\d])(?![.,]\d)")
_ACCOUNT_DK = re.compile(r"(?<![\d.,-])\d{4}[ -]\d{6,10}(?![\d])(?![.,]\d)")
# The cue must be followed closely ("konto: ", "kontonummer er ", "account no. "), so that
# "a-konto. Saksnr. 3677977" does not make the case number an account.
_ACCOUNT_CUE = re.compile(
    r"(?i)(?<![\[-])\b(?:kontonummer(?:et)?|kontonr|kontoen|konto|reg\.?\s?nr|reg|"
    r"registreringsnummer|account(?:\s+number)?|acct|bankkonto(?:en)?|bankkontonummer)\b"
    r"[\s:.#=-]{0,4}(?:(?:er|is|nr\.?|no\.?|number|nummer|mitt|mit|min)[\s:.#=-]{1,4}){0,3}"
    r"(\d[\d .-]{5,22}\d)(?![\d])"
)

_PHONE_GROUPED = re.compile(
    r"(?<![\d.,/-])(?:\d{2}([ .-])\d{2}\1\d{2}\1\d{2}|\d{3} \d{2} \d{3}|\d{4} \d{4})"
    r"(?![\d])(?![.,/-]\d)"
)
_PHONE_BARE = re.compile(r"(?<![\w/@])(?<!\d[.,])\d{8}(?![\w])(?![.,]\d)")

_NUMBER_WORD = re.compile(
    r"(?i)(?:\bkr\b|\bkroner\b|\bkrone\b|\bdkk\b|\bnok\b|\beur\b|\bordre\w*|\bfaktura\w*|"
    r"\bkundenummer\b|\bkundenr\b|\bkunde-?nr\b|\border\w*|\binvoice\w*|\breference\w*|"
    r"\bref\b|\bsag\w*|\bcase\b|\bpakke\w*|\btracking\b|\bsporing\w*|\bvarenummer\b|"
    r"\bvarenr\b|\bpostnummer\b|\bbeløb\w*|\bamount\b|#)"
)
_PHONE_CUE = re.compile(
    r"(?i)(?:\btlf\w*|\btelefon\w*|\btelephone\b|\bnummer\b|\bnummeret\b|\bring\w*|"
    r"\bmobil\w*|\bphone\w*|\bcall me\b|\bcall\b|\bsms\b|\bcell\b|\bcontact\b|\bkontakt\w*)"
)
_AMOUNT_AFTER = re.compile(r"(?i)\s?(?:kr\b|kroner\b|dkk\b|nok\b|eur\b|,-)")

_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS) + r")\]")


def has_placeholder(text: str) -> bool:
    """Whether `text` holds a redaction placeholder such as `[ADDRESS]`."""
    return _PLACEHOLDER.search(text) is not None


_IBAN_COUNTRIES = frozenset(
    """
    AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL
    GR GT HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM
    PK PL PS PT QA RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE
    """.split()
)
"""Countries that use IBANs (SWIFT's IBAN registry)."""

_CONTEXT_CHARS = 40


# --- check digits ------------------------------------------------------------------------------


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_valid(compact: str) -> bool:
    if not 15 <= len(compact) <= 34 or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _mod11_digit(digits: str, weights: Sequence[int]) -> int | None:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - rest) % 11
    return None if check == 10 else check


_FNR_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ACCOUNT_NO_W = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _valid_day_month(day: int, month: int) -> bool:
    # Leap day allowed in every year: the two-digit year does not fix the century.
    return 1 <= month <= 12 and 1 <= day <= (
        29 if month == 2 else calendar.monthrange(2001, month)[1]
    )


def fnr_valid(number: str) -> bool:
    """Whether 11 digits form a valid Norwegian fødselsnummer, D-number or H-number.

    Args:
        number: the 11 digits, without separators.

    Returns:
        True when the date part is a real day (D-numbers add 40 to the day, H-numbers 40 to the
        month, test numbers 80 to the month) and both mod-11 check digits are right.
    """
    if len(number) != 11 or not number.isdigit():
        return False
    day, month = int(number[0:2]), int(number[2:4])
    if day > 40:
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    if not _valid_day_month(day, month):
        return False
    k1 = _mod11_digit(number[:9], _FNR_W1)
    if k1 is None or k1 != int(number[9]):
        return False
    k2 = _mod11_digit(number[:10], _FNR_W2)
    return k2 is not None and k2 == int(number[10])


def cpr_date_valid(number: str) -> bool:
    """Whether the first six of 10 digits are a real `DDMMYY` date (the CPR number rule).

    Args:
        number: the 10 digits, without separators.
    """
    if len(number) != 10 or not number.isdigit():
        return False
    return _valid_day_month(int(number[0:2]), int(number[2:4]))


def no_account_valid(number: str) -> bool:
    """Whether 11 digits form a Norwegian account number with a valid mod-11 check digit."""
    if len(number) != 11 or not number.isdigit():
        return False
    check = _mod11_digit(number[:10], _ACCOUNT_NO_W)
    return check is not None and check == int(number[10])


def luhn_valid(number: str) -> bool:
    """Whether a digit string passes the Luhn check (payment cards)."""
    return number.isdigit() and _luhn_valid(number)


def iban_valid(iban: str) -> bool:
    """Whether a string, spaces ignored, is an IBAN with valid mod-97 check digits."""
    compact = iban.replace(" ", "").upper()
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact)) and _iban_valid(compact)


# --- finders -----------------------------------------------------------------------------------

_Finder = Callable[[str, "_Taken"], Iterator[tuple[int, int]]]


class _Taken:
    """Spans already claimed, so a later kind never takes an earlier kind's characters."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.spans: list[tuple[int, int]] = sorted(spans)

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.spans)

    def add(self, start: int, end: int) -> None:
        self.spans.append((start, end))
        self.spans.sort()


def _spans(pattern: re.Pattern[str], group: int = 0) -> _Finder:
    def find(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
        for m in pattern.finditer(text):
            yield m.span(group)

    return find


def _find_iban(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    # Every start is tried, not only where the last match ended: "AA00 AA75..." must not
    # hide the IBAN that starts inside a longer run of letters and digits before it.
    found_until = -1
    for m in _IBAN_START.finditer(text):
        if m.start() < found_until:
            continue
        candidate = m.group(1)
        # Longest valid prefix ending on a whole token; the regex may run into following words.
        for cut in range(len(candidate), 14, -1):
            if not candidate[cut - 1].isalnum():
                continue
            if cut < len(candidate) and candidate[cut].isalnum():
                continue
            if _iban_valid(candidate[:cut].replace(" ", "")):
                found_until = m.start() + cut
                yield m.start(), found_until
                break


def _find_iban_shape(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    for m in _IBAN_SHAPE.finditer(text):
        bban = m.group()[4:].replace(" ", "")
        if m.group(1) in _IBAN_COUNTRIES and sum(c.isdigit() for c in bban) >= 8:
            yield m.span()


def _find_card(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    for m in _DIGIT_GROUPS.finditer(text):
        if m.end() - m.start() < 13:
            continue
        groups = list(re.finditer(r"\d+", m.group()))
        base = m.start()
        used_until = -1
        for i in range(len(groups)):
            if groups[i].start() < used_until:
                continue
            best: tuple[int, int] | None = None
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j].group()
                if len(digits) > 19:
                    break
                if len(digits) < 13 or digits[0] not in "23456":
                    continue
                # A 4-digit group then one long group is how Danish accounts are written.
                if j == i + 1 and len(groups[i].group()) == 4 and len(groups[j].group()) >= 6:
                    continue
                if _luhn_valid(digits):
                    best = (base + groups[i].start(), base + groups[j].end())
            if best is not None:
                used_until = best[1] - base
                yield best


def _find_fnr(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    for m in _FNR.finditer(text):
        if fnr_valid(m.group(1) + m.group(2)):
            yield m.span()


def _find_cpr(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    for m in _CPR.finditer(text):
        if _valid_day_month(int(m.group(1)), int(m.group(2))):
            yield m.span()


def _find_account_no(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _ACCOUNT_NO_GROUPED.finditer(text))
    for m in _ACCOUNT_NO_PLAIN.finditer(text):
        if no_account_valid(m.group()):
            yield m.span()


#: What may stand between an amount/order word and its number: separators and a filler word.
_ADJACENT_GAP = re.compile(
    r"[\s:#.,\-]*((nr|no|nummer|number|er|is|var|was|lyder|på|of|på nr)\.?[\s:#.,\-]*){0,2}",
    re.IGNORECASE,
)


def _word_start(text: str, pos: int) -> int:
    # Never cut a word in two: "kundenummer" cut to "nummer" would read as a phone cue.
    while pos > 0 and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _context_before(text: str, start: int, taken: _Taken) -> str:
    # The text before `start`, with claimed spans blanked out so a keyword inside an e-mail
    # address or an account number does not count.
    lo = _word_start(text, max(0, start - _CONTEXT_CHARS))
    chars = list(text[lo:start])
    for s, e in taken.spans:
        for k in range(max(s, lo), min(e, start)):
            chars[k - lo] = " "
    return "".join(chars)


def _real_date(year: int, month: int, day: int) -> bool:
    return (
        1990 <= year <= 2039
        and 1 <= month <= 12
        and 1 <= day <= calendar.monthrange(year, month)[1]
    )


def _looks_like_date(digits: str) -> bool:
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    if _real_date(year, month, day):
        return True
    return _real_date(int(digits[4:8]), int(digits[2:4]), int(digits[0:2]))


def is_bare_phone(text: str, start: int, end: int, context: str | None = None) -> bool:
    """Whether the bare 8-digit number at `text[start:end]` is a phone (see the module docs).

    Args:
        text: the whole text.
        start: where the 8 digits begin.
        end: where they end.
        context: the text before the number to look for keywords in; by default the 40
            characters before `start`, widened to whole words.
    """
    if context is None:
        context = text[_word_start(text, max(0, start - _CONTEXT_CHARS)) : start]
    before = context
    last_number_word = max((m.end() for m in _NUMBER_WORD.finditer(before)), default=-1)
    last_cue = max((m.end() for m in _PHONE_CUE.finditer(before)), default=-1)
    # An amount or order word clears the number only when it stands right before it
    # ("faktura 21345678", "ordrenr.: 21345678"); further away ("faktura, oplyste 21345678")
    # the number may well be a phone, and a leak costs more than a redacted invoice number.
    if last_number_word > last_cue and _ADJACENT_GAP.fullmatch(before[last_number_word:]):
        return False
    if last_cue >= 0:
        return True
    after = text[end : end + _CONTEXT_CHARS // 2]
    first_number_word = min((m.start() for m in _NUMBER_WORD.finditer(after)), default=None)
    first_cue = min((m.start() for m in _PHONE_CUE.finditer(after)), default=None)
    if first_cue is not None and (first_number_word is None or first_cue < first_number_word):
        return True
    digits = text[start:end]
    if digits[0] in "01" or _AMOUNT_AFTER.match(text, end):
        return False
    return not _looks_like_date(digits)


def _find_bare_phone(text: str, taken: _Taken) -> Iterator[tuple[int, int]]:
    for m in _PHONE_BARE.finditer(text):
        if taken.overlaps(*m.span()):
            continue
        if is_bare_phone(text, m.start(), m.end(), _context_before(text, m.start(), taken)):
            yield m.span()


_FINDERS: tuple[tuple[Kind, _Finder], ...] = (
    ("EMAIL", _spans(_EMAIL)),
    ("IBAN", _find_iban),
    ("IBAN", _find_iban_shape),
    ("CARD", _find_card),
    ("PHONE", _spans(_PHONE_INTL_NORDIC)),
    ("PHONE", _spans(_PHONE_INTL_OTHER)),
    ("FNR", _spans(_FNR_CUE, 1)),
    ("FNR", _find_fnr),
    ("CPR", _spans(_CPR_CUE, 1)),
    ("CPR", _find_cpr),
    ("DATE_OF_BIRTH", lambda text, taken: find_birth_dates(text)),
    ("ACCOUNT", _spans(_ACCOUNT_REG_KONTO, 1)),
    ("ACCOUNT", _spans(_ACCOUNT_CUE, 1)),
    ("ACCOUNT", _find_account_no),
    ("ACCOUNT", _spans(_ACCOUNT_DK)),
    ("PHONE", _spans(_PHONE_GROUPED)),
    ("PHONE", _find_bare_phone),
    ("ADDRESS", lambda text, taken: find_addresses(text)),
)


_HOT = re.compile(r"[\d@]+")
_REGION_MARGIN = 120
"""No pattern, cue word or keyword window reaches further than this from a digit or `@`."""


def _regions(text: str) -> list[tuple[int, int]]:
    # Only the text around digits and `@` can hold an identifier; long transcripts are mostly
    # words, so searching these regions alone is much faster. Each region starts and ends at
    # whitespace (or the text's ends), so patterns see the same boundaries as in the whole text.
    clusters: list[tuple[int, int]] = []
    for m in _HOT.finditer(text):
        if clusters and m.start() - clusters[-1][1] <= 2 * _REGION_MARGIN:
            clusters[-1] = (clusters[-1][0], m.end())
        else:
            clusters.append(m.span())
    regions: list[tuple[int, int]] = []
    for start, end in clusters:
        lo, hi = _widen(text, start, end)
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(hi, regions[-1][1]))
        else:
            regions.append((lo, hi))
    return regions


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - _REGION_MARGIN)
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    hi = min(len(text), end + _REGION_MARGIN)
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    return lo, hi


def _find_in(text: str) -> list[Match]:
    taken = _Taken(m.span() for m in _PLACEHOLDER.finditer(text))
    found: list[Match] = []
    for kind, finder in _FINDERS:
        for start, end in finder(text, taken):
            if start >= end or taken.overlaps(start, end):
                continue
            taken.add(start, end)
            found.append(Match(kind, start, end, text[start:end]))
    return found


def find_identifiers(text: str) -> list[Match]:
    """Find personal identifiers in a text, in the order of the module docs.

    Placeholders already in the text (`[PHONE]`, ...) are left alone. Matches never overlap.

    Args:
        text: any text.

    Returns:
        The matches, sorted by position.
    """
    found: list[Match] = []
    for lo, hi in _regions(text):
        found.extend(
            Match(m.kind, m.start + lo, m.end + lo, m.value) for m in _find_in(text[lo:hi])
        )
    # Names hold no digit, so they are looked for in the whole text, around what was found.
    taken = _Taken(
        [*(m.span() for m in _PLACEHOLDER.finditer(text)), *((m.start, m.end) for m in found)]
    )
    for start, end in find_names(text):
        if start < end and not taken.overlaps(start, end):
            taken.add(start, end)
            found.append(Match("NAME", start, end, text[start:end]))
    return sorted(found, key=lambda m: m.start)


def _replace(text: str, matches: Sequence[Match]) -> str:
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(f"[{m.kind}]")
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


# In a call id, only shapes that ordinary ids never have count (see `personal_data_in_id`).
_ID_TOKEN_START = r"(?<![0-9A-Za-z])"
_ID_TOKEN_END = r"(?![0-9A-Za-z])"
_ID_PHONE = re.compile(_ID_TOKEN_START + r"\+(?:\d[ -]?){7,14}\d" + _ID_TOKEN_END)
_ID_CPR = re.compile(_ID_TOKEN_START + r"(\d{6})[ -](\d{4})" + _ID_TOKEN_END)
_ID_FNR = re.compile(_ID_TOKEN_START + r"(\d{6})[ -](\d{5})" + _ID_TOKEN_END)


def personal_data_in_id(value: str) -> str | None:
    """What personal data a call id holds, or None; only shapes no generated id has.

    An e-mail address, a phone number written with its country prefix ("+45 21 34 56 78"),
    or a CPR number or fødselsnummer written with its separator ("010190-1234",
    "010190 12345", a real date and, for the fødselsnummer, valid check digits). Bare runs of
    digits are not judged: ordinary numeric ids have the same shapes (`redact_text` reads
    every 8-digit number from 20000000 up as a phone number, a 10-digit one whose first six
    digits are a date as a CPR number, and the first 8 digits of 2 % of UUIDs as a phone).

    Returns:
        "an e-mail address", "a phone number", "a CPR number" or "a fødselsnummer".
    """
    if _EMAIL.search(value):
        return "an e-mail address"
    if _ID_PHONE.search(value):
        return "a phone number"
    for match in _ID_CPR.finditer(value):
        if cpr_date_valid(match[1] + match[2]):
            return "a CPR number"
    for match in _ID_FNR.finditer(value):
        if fnr_valid(match[1] + match[2]):
            return "a fødselsnummer"
    return None


def redact_id(value: str) -> str:
    """A call id as it may be shown and stored: what `personal_data_in_id` finds, redacted.

    `redact_text` leaves a CPR number joined to a word by a hyphen ("kunde-010190-1234"); in
    an id that is the very shape looked for, so it goes here.
    """

    def valid(kind: str, check: Callable[[str], bool]) -> Callable[[re.Match[str]], str]:
        return lambda m: kind if check(m[1] + m[2]) else m[0]

    out = _EMAIL.sub("[EMAIL]", value)
    out = _ID_PHONE.sub("[PHONE]", out)
    out = _ID_CPR.sub(valid("[CPR]", cpr_date_valid), out)
    out = _ID_FNR.sub(valid("[FNR]", fnr_valid), out)
    return redact_text(out)


def redact_text(text: str) -> str:
    """Replace every personal identifier in a text by its typed placeholder.

    Applies `find_identifiers` until nothing more is found, so that redacting twice gives the
    same text as redacting once (a placeholder can change what surrounds a number).

    Args:
        text: any text.

    Returns:
        The redacted text; the same text when it holds no identifier.

    Example:
        >>> redact_text("Ring på 12 34 56 78 om ordre 23456789")
        'Ring på [PHONE] om ordre 23456789'
    """
    while True:
        matches = find_identifiers(text)
        if not matches:
            return text
        text = _replace(text, matches)


PARALLEL_FROM = 2000
"""Distinct texts from which `redact_calls` redacts in several processes by default."""


CODE_COLUMNS = ("language", "channel", "queue", "customer_type")
"""A call's short text cells, stored and reported as they are: redacted when a frame has them."""


def redact_calls(
    calls: pl.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    codes: Sequence[str] = CODE_COLUMNS,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> pl.DataFrame:
    """Return a new frame with personal identifiers in the text columns replaced.

    Args:
        calls: a frame such as `IngestResult.calls`; it is not changed.
        columns: the string columns to redact; nulls stay null. Default: `summary`,
            `transcript`, and `wrapup_code` where the frame has it (a wrap-up code is free
            text an agent typed or picked: `seeded.wrapup_column`).
        codes: further string columns redacted where `calls` has them (an export's queue or
            channel cell is free text too).
        workers: processes that redact at once (this one included) when there are at least
            `parallel_from` distinct texts, and at most one per half of `parallel_from`
            texts; None: one per CPU core this process may use. The result is the same
            however many there are.
        parallel_from: fewer distinct texts than this are redacted here alone (starting a
            process costs about half a second).

    Returns:
        A copy of `calls` with `columns` redacted.

    Raises:
        InputError: a named column is missing or is not a string column.
    """
    import polars as pl  # here: a redaction process (`_worker`) starts faster without it

    if columns is None:
        columns = ("summary", "transcript") + (
            ("wrapup_code",) if "wrapup_code" in calls.columns else ()
        )
    for column in columns:
        if column not in calls.columns:
            raise InputError(
                f"redact_calls: no column {column!r} (found: {', '.join(calls.columns)})"
            )
        if calls.schema[column] != pl.String:
            raise InputError(
                f"redact_calls: column {column!r} is {calls.schema[column]}, expected String"
            )
    present = [c for c in codes if c in calls.columns and c not in columns]
    columns = [*columns, *(c for c in present if calls.schema[c] == pl.String)]
    values = {column: calls[column].to_list() for column in columns}
    # Each distinct text once, over all the columns (calls repeat their summaries).
    distinct = list(dict.fromkeys(v for vs in values.values() for v in vs if v is not None))
    count = available_cpus() if workers is None else workers
    # A process is worth its start for half of `parallel_from` texts or more.
    count = min(count, len(distinct) * 2 // max(parallel_from, 1))
    if count > 1 and len(distinct) >= parallel_from:
        redacted = _redact_in_processes(distinct, count)
    else:
        redacted = [redact_text(v) for v in distinct]
    done = dict(zip(distinct, redacted, strict=True))
    return calls.with_columns(
        pl.Series(column, [None if v is None else done[v] for v in vs], dtype=pl.String)
        for column, vs in values.items()
    )


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _redact_in_processes(texts: list[str], workers: int) -> list[str]:
    """`redact_text` of each text, the texts split over `workers` processes, this one included.

    The others are fresh interpreters running this module (`python -m contact_reasons.redact`,
    texts in and out as JSON on their standard streams): unlike `multiprocessing`, that neither
    copies this process's threads and locks (fork) nor runs the caller's script again (spawn).
    They take a little less than this process's share, since starting one takes a moment. A
    helper that fails leaves its texts to this process: nothing goes unredacted.
    """
    helpers = workers - 1
    own = max(1, round(len(texts) / (helpers + _OWN_SHARE) * _OWN_SHARE))
    rest = texts[own:]
    size = max(1, -(-len(rest) // helpers))
    chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
    root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    errors = [tempfile.TemporaryFile() for _ in chunks]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "contact_reasons.redact"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=error,
            env=env,
        )
        for error in errors
    ]
    # Written from threads: a pipe takes 64 KiB until its process has started to read.
    feeders = [
        threading.Thread(target=_feed, args=(proc, json.dumps(chunk).encode("utf-8")))
        for proc, chunk in zip(procs, chunks, strict=True)
    ]
    for feeder in feeders:
        feeder.start()
    out = [redact_text(t) for t in texts[:own]]
    for feeder in feeders:
        feeder.join()
    for proc, chunk, error_file in zip(procs, chunks, errors, strict=True):
        assert proc.stdout is not None
        data = proc.stdout.read()
        proc.wait()
        error_file.seek(0)
        error = error_file.read()
        error_file.close()
        done = json.loads(data) if proc.returncode == 0 and data else None
        if not isinstance(done, list) or len(done) != len(chunk):
            log.warning(
                "a redaction process failed (exit %s: %s); redacting its %d texts here",
                proc.returncode,
                error.decode("utf-8", "replace").strip()[-300:],
                len(chunk),
            )
            done = [redact_text(t) for t in chunk]
        out.extend(done)
    return out


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except BrokenPipeError:  # the process died; its texts are redacted here
        pass


_OWN_SHARE = 1.25
"""This process's share of the texts against another process's (it needs no start-up)."""


def contains_value(text: str, value: str) -> bool:
    """Whether `value` stands in `text` as a whole token: "Per" is not in "Personnummer"."""
    head = r"(?<![\w])" if value[:1].isalnum() else ""
    tail = r"(?![\w])" if value[-1:].isalnum() else ""
    return re.search(head + re.escape(value) + tail, text) is not None


def redaction_report(
    calls: pl.DataFrame, planted: pl.DataFrame, ordinary: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Measure redaction against known truth: planted identifiers and ordinary numbers.

    Args:
        calls: `call_id` plus the text columns named in `planted["field"]`, unredacted.
        planted: `call_id`, `field`, `kind`, `value`: identifiers planted in the calls.
        ordinary: `call_id`, `field`, `value`: ordinary numbers (amounts, dates, order
            numbers) that must survive.

    Returns:
        `planted` (values found in their field), `leaked` (still there after `redact_text`),
        `leaked_values` (kind and value of each leak), `leaked_by_kind`, `ordinary`,
        `false_redactions`, `false_redaction_rate` and `false_redacted_values`. Values that
        are not in their field before redaction are counted in `planted_missing` and
        `ordinary_missing` and left out of the rates.
    """
    texts: dict[tuple[str, str], str] = {}
    fields = set(planted["field"].to_list())
    if ordinary is not None:
        fields |= set(ordinary["field"].to_list())
    for column in sorted(fields & set(calls.columns)):
        for call_id, text in zip(calls["call_id"].to_list(), calls[column].to_list(), strict=True):
            if text is not None and (str(call_id), column) not in texts:
                texts[(str(call_id), column)] = text
    redacted: dict[tuple[str, str], str] = {}

    def clean(key: tuple[str, str]) -> str:
        if key not in redacted:
            redacted[key] = redact_text(texts[key])
        return redacted[key]

    leaks: list[tuple[str, str]] = []
    found = missing = 0
    for row in planted.iter_rows(named=True):
        key = (str(row["call_id"]), str(row["field"]))
        value = str(row["value"])
        if key not in texts or not contains_value(texts[key], value):
            missing += 1
            continue
        found += 1
        if contains_value(clean(key), value):
            leaks.append((str(row["kind"]), value))
    by_kind: dict[str, int] = {}
    for kind, _ in leaks:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    report: dict[str, Any] = {
        "planted": found,
        "planted_missing": missing,
        "leaked": len(leaks),
        "leaked_by_kind": by_kind,
        "leaked_values": leaks,
    }
    if ordinary is not None:
        eaten: list[str] = []
        seen = absent = 0
        for row in ordinary.iter_rows(named=True):
            key = (str(row["call_id"]), str(row["field"]))
            value = str(row["value"])
            if key not in texts or not contains_value(texts[key], value):
                absent += 1
                continue
            seen += 1
            if not contains_value(clean(key), value):
                eaten.append(value)
        report |= {
            "ordinary": seen,
            "ordinary_missing": absent,
            "false_redactions": len(eaten),
            "false_redaction_rate": len(eaten) / seen if seen else 0.0,
            "false_redacted_values": eaten,
        }
    return report


def _worker() -> None:
    """Redact a JSON list of texts from standard input onto standard output, as JSON."""
    texts = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.buffer.write(json.dumps([redact_text(t) for t in texts]).encode("utf-8"))


if __name__ == "__main__":
    _worker()
