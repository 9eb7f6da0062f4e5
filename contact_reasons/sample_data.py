"""Deterministic generator for the Nordic contact-centre sample corpus.

The hand-written source lives in ``data/sample/source/reasons/*.json`` (one file per contact
reason: customer phrasings, note-taker summaries and agent answers in Danish, Norwegian Bokmål
and English). This module turns it into twelve ISO weeks of calls (2026-W36 … 2026-W47) with
summaries, full transcripts, planted fake personal data and ground-truth files.

Everything is driven by one seeded :class:`random.Random`; the same seed, call count and source
files give byte-identical output. Only the standard library is used.

Run::

    python -m contact_reasons.sample_data [--calls 6000] [--seed 7] [--out data/sample]

Placeholders that the source texts may use (filled per call, in the call's language):
``{amount}`` (180-9,800), ``{fee}`` (95-995), ``{rate}`` (hourly rate), ``{big_amount}``,
``{date}`` (a past date), ``{date_next}`` (a future date),
``{weekday}``, ``{time}``, ``{ref}`` (a 6-7 digit order/case number), ``{n}`` (2-9) and
``{country}`` (a non-EU roaming destination).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_CALLS = 6000
DEFAULT_SEED = 7
YEAR = 2026
WEEK_NUMBERS: tuple[int, ...] = tuple(range(36, 48))  # 12 ISO weeks, 2026-W36 … 2026-W47
LANGUAGES: tuple[str, ...] = ("da", "no", "en")
LANGUAGE_WEIGHTS: tuple[float, ...] = (0.45, 0.40, 0.15)
CSV_COLUMNS: tuple[str, ...] = (
    "call_id",
    "started_at",
    "summary",
    "transcript",
    "language",
    "channel",
    "queue",
    "customer_type",
    "answered",
    "duration_seconds",
)
SMALL_SUBSET_SIZE = 400

# Week patterns. Indices are 0-based positions in WEEK_NUMBERS (index 8 = 2026-W44 = week 9).
EMERGING_FIRST_INDEX = 8
EMERGING_COUNTS_PER_6000: tuple[int, ...] = (5, 15, 35, 60)
FAQ_PUBLISHED_INDEX = 5  # 2026-W41 = week 6
FAQ_REMAINING_SHARE = 0.4  # ~60 % drop once the FAQ page is out
SEASONAL_MULTIPLIERS: dict[str, dict[int, float]] = {
    # ISO week -> multiplier; weeks not listed use the "base" entry under key 0.
    "tyre_change_booking": {0: 0.45, 42: 3.2, 43: 4.6, 44: 4.2, 45: 2.6},
    "opening_hours_christmas": {0: 0.35, 44: 0.8, 45: 2.4, 46: 4.2, 47: 6.5},
}

PROBABILITY_SECOND_REASON = 0.15
PROBABILITY_SECOND_SAME_SECTOR = 0.6
GENERIC_SECTORS = frozenset({"billing", "account"})
PROBABILITY_PII = 0.044  # answered calls only -> ~4 % of all calls
PROBABILITY_PII_IN_SUMMARY = 0.35
PROBABILITY_JSON_TRANSCRIPT = 0.10
PROBABILITY_UTC = 0.03
PROBABILITY_EMPTY_SUMMARY = 0.02
PROBABILITY_UNANSWERED_PHONE = 0.10  # phone is ~80 % of calls -> ~8 % of all calls
CHANNELS: tuple[str, ...] = ("phone", "chat", "email")
CHANNEL_WEIGHTS: tuple[float, ...] = (0.80, 0.13, 0.07)
BUSINESS_SHARE: dict[str, float] = {
    "health": 0.0,
    "legal": 0.3,
    "trades": 0.35,
    "car": 0.25,
    "bank": 0.12,
    "insurance": 0.15,
    "telecom": 0.2,
    "electricity": 0.15,
    "travel": 0.12,
    "retail": 0.1,
}
WEEKDAY_WEIGHTS: tuple[float, ...] = (0.25, 0.20, 0.18, 0.17, 0.15, 0.03, 0.02)
WORKDAY_HOURS: tuple[tuple[int, float], ...] = (
    (7, 2),
    (8, 11),
    (9, 14),
    (10, 13),
    (11, 11),
    (12, 8),
    (13, 10),
    (14, 9),
    (15, 7),
    (16, 3),
    (17, 2),
    (18, 1),
    (19, 1),
)
WEEKEND_HOURS: tuple[tuple[int, float], ...] = ((10, 3), (11, 3), (12, 2), (13, 2), (14, 1))

SPEAKERS: dict[str, tuple[str, str]] = {
    "da": ("Medarbejder", "Kunde"),
    "no": ("Agent", "Kunde"),
    "en": ("Agent", "Customer"),
}
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "da": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag"),
    "no": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "da": (
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "no": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
COUNTRIES: dict[str, tuple[str, ...]] = {
    "da": ("Schweiz", "Tyrkiet", "USA", "Thailand", "England", "Egypten", "Dubai", "Serbien"),
    "no": ("Sveits", "Tyrkia", "USA", "Thailand", "Storbritannia", "Egypt", "Dubai", "Serbia"),
    "en": ("Switzerland", "Turkey", "the US", "Thailand", "the UK", "Egypt", "Dubai", "Serbia"),
}
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "da": (
        "Mette",
        "Lars",
        "Søren",
        "Anne",
        "Jens",
        "Camilla",
        "Mads",
        "Louise",
        "Henrik",
        "Pia",
        "Mikkel",
        "Ida",
        "Bent",
        "Karina",
        "Rasmus",
        "Hanne",
        "Jonas",
        "Birgit",
    ),
    "no": (
        "Ole",
        "Kari",
        "Ingrid",
        "Lars",
        "Silje",
        "Jonas",
        "Marte",
        "Håkon",
        "Nora",
        "Eirik",
        "Tone",
        "Sindre",
        "Randi",
        "Magnus",
        "Hege",
        "Per",
        "Ida",
        "Bjørn",
    ),
    "en": (
        "John",
        "Sarah",
        "Ahmed",
        "Maria",
        "David",
        "Priya",
        "Tom",
        "Anna",
        "Luis",
        "Emily",
        "Marek",
        "Fatima",
        "James",
        "Olga",
    ),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "da": (
        "Jensen",
        "Nielsen",
        "Hansen",
        "Pedersen",
        "Andersen",
        "Christensen",
        "Larsen",
        "Sørensen",
        "Rasmussen",
        "Kristensen",
        "Madsen",
        "Thomsen",
        "Poulsen",
        "Holm",
    ),
    "no": (
        "Hansen",
        "Johansen",
        "Olsen",
        "Larsen",
        "Andersen",
        "Berg",
        "Haugen",
        "Bakken",
        "Solberg",
        "Nilsen",
        "Dahl",
        "Strand",
        "Lie",
        "Moen",
    ),
    "en": (
        "Smith",
        "Khan",
        "Garcia",
        "Brown",
        "Kowalski",
        "Patel",
        "Miller",
        "Rossi",
        "Wilson",
        "Novak",
        "Ali",
        "Taylor",
    ),
}
EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "hotmail.com",
    "outlook.dk",
    "yahoo.no",
    "live.dk",
    "online.no",
    "icloud.com",
)
_COMPANIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # sector: (Danish companies, Norwegian companies) – all fictional
    "public": (
        ("Borgerservice Nordkommune", "Vestby Kommune"),
        ("Servicetorget Fjordby", "Nordvik kommune"),
    ),
    "health": (
        ("Lægehuset Vestergade", "Klinik Søndermarken"),
        ("Storgata Legesenter", "Fjordby legekontor"),
    ),
    "legal": (
        ("Advokatfirmaet Holm & Bech", "Retshjælpen Nord"),
        ("Advokatfirmaet Lund", "Juss-Hjelpa Midt"),
    ),
    "trades": (
        ("Bygmester Jensen ApS", "VVS-Huset Nord"),
        ("Nordbygg Håndverk AS", "Rørkompaniet AS"),
    ),
    "car": (
        ("Autoværkstedet Ringvejen", "Nordbil Service"),
        ("Bilsenteret Sandvika", "Dekk & Service AS"),
    ),
    "bank": (("Nordbanken", "Sparekassen Øst"), ("Fjordbanken", "Sparebanken Nord")),
    "insurance": (
        ("Tryggi Forsikring", "Nordisk Forsikring"),
        ("Trygghet Forsikring", "Nordisk Forsikring"),
    ),
    "telecom": (("NordTel", "Bølge Mobil"), ("NordTel", "Fjordnett")),
    "electricity": (("NordEl", "Grøn Strøm A/S"), ("NordEl", "Fjordkraft Energi")),
    "travel": (("NordAir", "Rejsebureauet Sol"), ("NordAir", "Reisebyrået Fjell")),
    "retail": (("Nordhandel", "Webshoppen.dk"), ("Nordhandel", "Nettbutikken.no")),
}
_DEFAULT_COMPANIES: tuple[tuple[str, ...], tuple[str, ...]] = (("Kundeservice",), ("Kundeservice",))

GREETINGS: dict[str, tuple[str, ...]] = {
    "da": (
        "{company}, du taler med {agent}, hvad kan jeg hjælpe med?",
        "Goddag, det er {agent} fra {company}.",
        "{company}, {agent}.",
        "Hej og velkommen til {company}, du taler med {agent}. Hvad drejer det sig om?",
    ),
    "no": (
        "{company}, du snakker med {agent}, hva kan jeg hjelpe deg med?",
        "Hei, det er {agent} i {company}.",
        "{company}, {agent} her.",
        "God dag, {company}, du snakker med {agent}.",
    ),
    "en": (
        "{company}, you're speaking with {agent}, how can I help?",
        "Hello, this is {agent} at {company}.",
        "Good morning, {company}, {agent} speaking.",
    ),
}
CHAT_GREETINGS: dict[str, tuple[str, ...]] = {
    "da": ("Hej, du chatter med {agent} fra {company}. Hvad kan jeg hjælpe med?",),
    "no": ("Hei, du chatter med {agent} fra {company}. Hva kan jeg hjelpe med?",),
    "en": ("Hi, you're chatting with {agent} from {company}. What can I do for you?",),
}
OPENERS: dict[str, tuple[str, ...]] = {
    "da": (
        "Ja hej, det er {first} {last}.",
        "Hej, jeg hedder {first} {last}.",
        "Goddag, {first} her.",
        "Ja hej hej, jeg har et spørgsmål.",
        "Hej, undskyld jeg står lige i Netto, men jeg skulle lige have fat i jer.",
    ),
    "no": (
        "Ja hei, det er {first} {last}.",
        "Hei, jeg heter {first} {last}.",
        "Hallo, {first} her.",
        "Hei hei, jeg lurte på en ting.",
        "Hei, unnskyld at det bråker litt, jeg sitter i bilen.",
    ),
    "en": (
        "Hi, my name is {first} {last}.",
        "Hello, yes, {first} here.",
        "Hi there, I have a question.",
        "Hello, sorry, is this the right number for this?",
    ),
}
ID_REQUESTS: dict[str, dict[str, tuple[str, ...]]] = {
    "birth": {
        "da": (
            "Må jeg lige få dit navn og fødselsdato?",
            "Hvad er dit fulde navn og din fødselsdato?",
            "Jeg skal lige bekræfte din identitet, hvem taler jeg med?",
        ),
        "no": (
            "Kan jeg få navn og fødselsdato?",
            "Hva er fullt navn og fødselsdato?",
            "Jeg må bare bekrefte hvem du er, hva heter du?",
        ),
        "en": (
            "Can I have your name and date of birth?",
            "Could you confirm your full name and date of birth, please?",
        ),
    },
    "number": {
        "da": ("Har du dit kundenummer ved hånden?", "Hvad er dit kundenummer?"),
        "no": ("Har du kundenummeret ditt tilgjengelig?", "Hva er kundenummeret?"),
        "en": ("Do you have your customer number?", "What is your customer number, please?"),
    },
}
HOLDS: dict[str, tuple[str, ...]] = {
    "da": (
        "Et øjeblik, jeg kigger lige.",
        "Øjeblik, jeg slår dig lige op.",
        "Vent lige to sekunder.",
        "Jeg sætter dig lige på hold et øjeblik.",
    ),
    "no": (
        "Vent litt.",
        "Et øyeblikk, jeg sjekker.",
        "To sekunder, jeg ser på det.",
        "Jeg setter deg på vent et lite øyeblikk.",
    ),
    "en": ("One moment, let me check.", "Bear with me a second.", "Let me just look that up."),
}
ACKS: dict[str, tuple[str, ...]] = {
    "da": ("Okay, super.", "Nå okay, det er fint.", "Ja okay.", "Perfekt, tak.", "Mhm."),
    "no": ("Ok, supert.", "Å ja, skjønner.", "Ja ok.", "Flott, takk.", "Mhm."),
    "en": ("Okay, great.", "Right, I see.", "Okay.", "Perfect, thanks."),
}
SECOND_INTROS: dict[str, tuple[str, ...]] = {
    "da": ("Og så en ting mere, ", "Nå ja, og mens jeg har dig, ", "Ja og så lige, "),
    "no": ("Og en ting til, ", "Forresten, når jeg først har deg, ", "Ja og så, "),
    "en": ("Oh and one more thing, ", "While I have you, ", "Also, "),
}
SECOND_CLAUSES: dict[str, tuple[str, ...]] = {
    "da": (
        "Spurgte også om {name}.",
        "Desuden spørgsmål om {name}.",
        "Nævnte også {name}.",
        "Ville samtidig høre om {name}.",
    ),
    "no": (
        "Spurte også om {name}.",
        "I tillegg spørsmål om {name}.",
        "Nevnte også {name}.",
        "Ville samtidig vite om {name}.",
    ),
    "en": ("Also asked about {name}.", "Additionally raised {name}.", "Mentioned {name} too."),
}
CLOSINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "da": (
        (
            "Var der andet jeg kan hjælpe med?",
            "Nej det var det, tak for hjælpen.",
            "Selv tak, hav en god dag.",
        ),
        ("Er der mere?", "Nej, det var bare det.", "Godt, hej hej."),
        ("Kan jeg hjælpe med andet i dag?", "Nej tak, det var fint.", "Tak for opkaldet."),
    ),
    "no": (
        (
            "Er det noe mer jeg kan hjelpe med?",
            "Nei, det var det, takk for hjelpen.",
            "Bare hyggelig, ha en fin dag.",
        ),
        ("Var det noe mer?", "Nei, det var alt.", "Greit, ha det bra."),
        ("Noe annet i dag?", "Nei takk.", "Takk for at du ringte."),
    ),
    "en": (
        ("Anything else I can help with?", "No, that's all, thanks.", "You're welcome, bye."),
        ("Is there anything else?", "No, that was it.", "Have a good day."),
    ),
}
REFERENCE_LINES: dict[str, tuple[str, ...]] = {
    "da": (
        "Du har fået sagsnummer {ref}, hvis du ringer igen.",
        "Det er registreret under ordre {ref}.",
        "Fakturanummeret er {ref}, og beløbet er {amount} kr.",
        "Jeg har noteret det på sag {ref} i dag den {date_next}.",
    ),
    "no": (
        "Saksnummeret ditt er {ref} om du ringer igjen.",
        "Det er registrert på ordre {ref}.",
        "Fakturanummer {ref}, beløpet er {amount} kr.",
        "Jeg har notert det på sak {ref}.",
    ),
    "en": (
        "Your reference number is {ref} if you call again.",
        "It's logged under order {ref}.",
        "The invoice number is {ref} and the amount is {amount} kr.",
    ),
}
REFERENCE_NOTES: dict[str, tuple[str, ...]] = {
    "da": ("Sagsnr. {ref}.", "Ordre {ref}.", "Ref. {ref}"),
    "no": ("Saksnr. {ref}.", "Ordre {ref}.", "Ref. {ref}"),
    "en": ("Ref {ref}.", "Ticket {ref}."),
}
PROBABILITY_REFERENCE_LINE = 0.15
PROBABILITY_REFERENCE_NOTE = 0.08
UNANSWERED_SUMMARIES: dict[str, tuple[str, ...]] = {
    "da": (
        "Ubesvaret opkald, lagt på i kø efter {minutes} min. Menuvalg: {name}.",
        "Ubesvaret – kunden lagde på i køen. IVR: {name}.",
        "Opkald ikke besvaret (kø {queue}). Talemenu: {name}.",
    ),
    "no": (
        "Ubesvart anrop, la på i kø etter {minutes} min. Menyvalg: {name}.",
        "Ubesvart – innringer la på i køen. IVR: {name}.",
        "Anrop ikke besvart (kø {queue}). Talemeny: {name}.",
    ),
    "en": (
        "Unanswered call, caller hung up after {minutes} min in queue. IVR option: {name}.",
        "Missed call – abandoned in queue. IVR: {name}.",
        "Call not answered (queue {queue}). Menu choice: {name}.",
    ),
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME_PREFIX = re.compile(r"^(spørgsmål om|spørsmål om|questions? about)\s+", re.IGNORECASE)
_STICKY_PLACEHOLDERS = frozenset({"country"})  # same value everywhere in one call
_ORDINARY_PLACEHOLDERS = frozenset(
    {"amount", "fee", "rate", "big_amount", "date", "date_next", "ref", "time"}
)


# --------------------------------------------------------------------------------------------
# Source reasons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One contact reason as written in ``data/sample/source/reasons/<key>.json``."""

    key: str
    sector: str
    names: dict[str, str]
    queue: str
    phrasings: dict[str, list[str]]
    summaries: dict[str, list[str]]
    agent_answers: dict[str, list[str]]
    pattern: str
    weight: float


def load_reasons(folder: Path) -> list[Reason]:
    """Read every reason JSON file in ``folder``, sorted by key.

    Files that are not valid JSON or lack a field are skipped with a warning, so the generator
    works while the corpus is still being written.

    Args:
        folder: Directory holding ``<key>.json`` files.

    Returns:
        The reasons, sorted by key.
    """
    reasons: list[Reason] = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            reason = Reason(
                key=str(raw["key"]),
                sector=str(raw["sector"]),
                names={lang: str(raw["names"][lang]) for lang in LANGUAGES},
                queue=str(raw.get("queue") or "kundeservice"),
                phrasings={lang: [str(t) for t in raw["phrasings"][lang]] for lang in LANGUAGES},
                summaries={lang: [str(t) for t in raw["summaries"][lang]] for lang in LANGUAGES},
                agent_answers={
                    lang: [str(t) for t in raw["agent_answers"][lang]] for lang in LANGUAGES
                },
                pattern=str(raw.get("pattern", "steady")),
                weight=float(raw.get("weight", 1.0)),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            continue
        empty = [
            f"{part}.{lang}"
            for part in ("phrasings", "summaries", "agent_answers")
            for lang in LANGUAGES
            if not getattr(reason, part)[lang]
        ]
        if empty:
            logger.warning("skipping %s: empty %s", path, ", ".join(empty))
            continue
        reasons.append(reason)
    reasons.sort(key=lambda r: r.key)
    return reasons


# --------------------------------------------------------------------------------------------
# Valid fake identifiers (check digits computed, values random)
# --------------------------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    """Return the Luhn check digit for ``digits`` (the payload without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether a digit string (spaces allowed) passes the Luhn check."""
    digits = number.replace(" ", "")
    return digits.isdigit() and luhn_check_digit(digits[:-1]) == digits[-1]


def _mod11(digits: str, weights: Sequence[int]) -> int | None:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    return None if check == 10 else check


_FNR_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def fnr_valid(number: str) -> bool:
    """Whether an 11-digit Norwegian fødselsnummer / D-number has valid mod-11 check digits."""
    if len(number) != 11 or not number.isdigit():
        return False
    k1 = _mod11(number[:9], _FNR_W1)
    k2 = _mod11(number[:10], _FNR_W2)
    return k1 == int(number[9]) and k2 == int(number[10])


def iban_valid(iban: str) -> bool:
    """Whether an IBAN (spaces allowed) passes the ISO 13616 mod-97 check."""
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _birth_date(rng: random.Random, first_year: int = 1940, last_year: int = 1999) -> date:
    start = date(first_year, 1, 1)
    span = (date(last_year, 12, 31) - start).days
    return start + timedelta(days=rng.randrange(span + 1))


def fake_cpr(rng: random.Random) -> str:
    """A Danish CPR number (DDMMYY-XXXX, valid date, 1900s century digit), dash or not."""
    born = _birth_date(rng)
    serial = f"{rng.randrange(4)}{rng.randrange(1000):03d}"
    sep = "-" if rng.random() < 0.65 else ""
    return f"{born:%d%m%y}{sep}{serial}"


def fake_fnr(rng: random.Random, d_number: bool = False) -> str:
    """A Norwegian fødselsnummer (or D-number) with valid mod-11 check digits."""
    while True:
        born = _birth_date(rng)
        individual = rng.randrange(500)  # 000-499: born 1900-1999
        day = born.day + (40 if d_number else 0)
        base = f"{day:02d}{born:%m%y}{individual:03d}"
        k1 = _mod11(base, _FNR_W1)
        if k1 is None:
            continue
        k2 = _mod11(base + str(k1), _FNR_W2)
        if k2 is None:
            continue
        return f"{base}{k1}{k2}"


def fake_phone_dk(rng: random.Random) -> str:
    """A Danish phone number in one of the common written forms."""
    digits = f"{rng.choice('2345678')}{rng.randrange(10**7):07d}"
    pairs = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return rng.choice((f"+45 {pairs}", digits, pairs, f"+45{digits}"))


def fake_phone_no(rng: random.Random) -> str:
    """A Norwegian mobile number in one of the common written forms."""
    digits = f"{rng.choice('49')}{rng.randrange(10**7):07d}"
    grouped = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    return rng.choice((f"+47 {grouped}", digits, grouped, f"+47{digits}"))


def fake_email(rng: random.Random, first: str, last: str) -> str:
    """An e-mail address built from a name (ASCII-folded)."""
    fold = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
    f, la = first.translate(fold).lower(), last.translate(fold).lower()
    local = rng.choice((f"{f}.{la}", f"{f}{la}{rng.randrange(10, 99)}", f"{f[0]}{la}", f"{f}_{la}"))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def fake_card(rng: random.Random) -> str:
    """A 16-digit payment card number passing Luhn, sometimes grouped in fours."""
    prefix = rng.choice(("4571", "4532", "5169", "5413", "4026"))
    payload = prefix + "".join(str(rng.randrange(10)) for _ in range(11))
    number = payload + luhn_check_digit(payload)
    if rng.random() < 0.6:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def fake_account_no(rng: random.Random, formatted: bool = True) -> str:
    """A Norwegian bank account number (11 digits, valid mod-11), e.g. ``1234.56.78903``."""
    while True:
        base = f"{rng.randrange(1000, 9999)}{rng.randrange(10**6):06d}"
        check = _mod11(base, _FNR_W2)
        if check is None:
            continue
        number = f"{base}{check}"
        return f"{number[:4]}.{number[4:6]}.{number[6:]}" if formatted else number


def fake_account_dk(rng: random.Random) -> tuple[str, str, str]:
    """A Danish account number: (written form, reg. no., 10-digit zero-padded account)."""
    reg = f"{rng.randrange(1000, 9999)}"
    account = f"{rng.randrange(10**5, 10**10):010d}"
    shown = account if rng.random() < 0.5 else account.lstrip("0")
    return f"{reg}{rng.choice(('-', ' '))}{shown}", reg, account


def fake_iban(rng: random.Random, country: str) -> str:
    """A DK or NO IBAN with a valid mod-97 check, sometimes grouped in fours."""
    if country == "DK":
        _, reg, account = fake_account_dk(rng)
        iban = _iban("DK", reg + account)
    else:
        iban = _iban("NO", fake_account_no(rng, formatted=False))
    if rng.random() < 0.5:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


# --------------------------------------------------------------------------------------------
# Numbers, dates and times that are NOT personal data
# --------------------------------------------------------------------------------------------


def _group(value: int, sep: str) -> str:
    return f"{value:,}".replace(",", sep)


def format_amount(rng: random.Random, lang: str, low: int, high: int, step: int) -> str:
    """A money amount in the language's number format (no currency)."""
    value = rng.randrange(low, high, step)
    sep = {"da": ".", "no": " ", "en": ","}[lang]
    text = _group(value, sep)
    if lang != "en" and rng.random() < 0.15:
        text += f",{rng.choice(('50', '95', '00', '25'))}"
    elif lang == "en" and rng.random() < 0.1:
        text += f".{rng.choice(('50', '95', '00'))}"
    return text


def format_date(rng: random.Random, lang: str, day: date) -> str:
    """A date written the way the language's callers and note-takers write it."""
    style = rng.random()
    if lang == "en":
        if style < 0.5:
            return f"{day.day} {MONTHS['en'][day.month - 1]}"
        return f"{day:%d/%m}" if style < 0.8 else f"{day:%d.%m.%Y}"
    if style < 0.4:
        return f"{day:%d.%m}"
    if style < 0.7:
        return f"{day:%d.%m.%Y}"
    return f"{day.day}. {MONTHS[lang][day.month - 1]}"


def customer_number(rng: random.Random) -> str:
    """A 6-8 digit customer number that is not a phone, CPR or fødselsnummer."""
    length = rng.choice((6, 7, 7, 8))
    if length == 8:  # Nordic phone numbers never start with 0 or 1
        return f"1{rng.randrange(10**7):07d}"
    return f"{rng.randrange(1, 10)}{rng.randrange(10 ** (length - 1)):0{length - 1}d}"


# --------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One generated call plus its ground truth."""

    call_id: str
    week_index: int
    reason: Reason
    language: str
    started_at: str
    local_start: datetime
    channel: str
    queue: str
    customer_type: str
    answered: bool
    duration_seconds: str
    summary: str = ""
    transcript: str = ""
    pii: list[tuple[str, str, str]] = field(default_factory=list)  # (field, kind, value)
    ordinary: list[tuple[str, str]] = field(default_factory=list)  # (field, value)

    @property
    def week(self) -> str:
        """ISO week label, e.g. ``2026-W36``."""
        return f"{YEAR}-W{WEEK_NUMBERS[self.week_index]:02d}"

    def row(self) -> list[str]:
        """The CSV row in :data:`CSV_COLUMNS` order."""
        return [
            self.call_id,
            self.started_at,
            self.summary,
            self.transcript,
            self.language,
            self.channel,
            self.queue,
            self.customer_type,
            "true" if self.answered else "false",
            self.duration_seconds,
        ]


def _week_multiplier(reason: Reason, week_index: int) -> float:
    if reason.pattern == "falls_after_faq" and week_index >= FAQ_PUBLISHED_INDEX:
        return FAQ_REMAINING_SHARE
    if reason.pattern == "seasonal" and reason.key in SEASONAL_MULTIPLIERS:
        table = SEASONAL_MULTIPLIERS[reason.key]
        return table.get(WEEK_NUMBERS[week_index], table[0])
    return 1.0


def _largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    norm = sum(shares)
    exact = [total * s / norm for s in shares] if norm else [0.0] * len(shares)
    counts = [int(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def weekly_counts(reasons: Sequence[Reason], total: int, rng: random.Random) -> list[list[int]]:
    """Number of calls per week (outer) and reason (inner, same order as ``reasons``).

    Args:
        reasons: Reasons, sorted by key.
        total: Total number of calls over all twelve weeks.
        rng: Random source.

    Returns:
        A 12 × len(reasons) matrix of call counts summing to ``total``.
    """
    week_shares = [rng.uniform(0.92, 1.08) * (1 + 0.01 * i) for i in range(len(WEEK_NUMBERS))]
    week_totals = _largest_remainder(total, week_shares)
    scale = total / 6000
    matrix: list[list[int]] = []
    for w, week_total in enumerate(week_totals):
        fixed: dict[int, int] = {}
        for i, reason in enumerate(reasons):
            if reason.pattern == "emerging":
                step = w - EMERGING_FIRST_INDEX
                base = EMERGING_COUNTS_PER_6000[step] if 0 <= step < 4 else 0
                fixed[i] = min(week_total, round(base * scale))
        remaining = max(0, week_total - sum(fixed.values()))
        shares = [
            0.0 if i in fixed else r.weight * _week_multiplier(r, w) * rng.uniform(0.85, 1.15)
            for i, r in enumerate(reasons)
        ]
        counts = _largest_remainder(remaining, shares)
        for i, n in fixed.items():
            counts[i] = n
        matrix.append(counts)
    return matrix


def _utc_offset(local: datetime) -> timedelta:
    """Central European offset for a local wall-clock time (EU summer-time rule)."""

    def last_sunday(month: int) -> date:
        day = date(local.year, month, 31)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    start = datetime.combine(last_sunday(3), datetime.min.time()).replace(hour=2)
    end = datetime.combine(last_sunday(10), datetime.min.time()).replace(hour=3)
    return timedelta(hours=2) if start <= local < end else timedelta(hours=1)


def _start_time(rng: random.Random, week_index: int, channel: str) -> datetime:
    monday = date.fromisocalendar(YEAR, WEEK_NUMBERS[week_index], 1)
    weekday = rng.choices(range(7), weights=WEEKDAY_WEIGHTS)[0]
    if channel == "email":
        hour = rng.choices(range(24), weights=[1] * 7 + [4] * 10 + [2] * 7)[0]
    else:
        hours = WORKDAY_HOURS if weekday < 5 else WEEKEND_HOURS
        hour = rng.choices([h for h, _ in hours], weights=[w for _, w in hours])[0]
    return datetime.combine(monday + timedelta(days=weekday), datetime.min.time()).replace(
        hour=hour, minute=rng.randrange(60), second=rng.randrange(60)
    )


def _format_started_at(rng: random.Random, local: datetime) -> str:
    offset = _utc_offset(local)
    if rng.random() < PROBABILITY_UTC:
        return (local - offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    aware = local.replace(tzinfo=timezone(offset))
    return aware.isoformat()


class _Filler:
    """Fills ``{placeholder}`` slots for one call and records the ordinary numbers used."""

    def __init__(self, rng: random.Random, lang: str, day: date) -> None:
        self.rng = rng
        self.lang = lang
        self.day = day
        self.used: list[str] = []
        self._unknown_logged: set[str] = set()
        self._sticky: dict[str, str] = {}

    def value(self, name: str) -> str | None:
        rng, lang = self.rng, self.lang
        makers: dict[str, Callable[[], str]] = {
            "amount": lambda: format_amount(rng, lang, 180, 9800, 5),
            "fee": lambda: format_amount(rng, lang, 95, 1000, 5),
            "rate": lambda: format_amount(rng, lang, 1200, 3850, 50),
            "big_amount": lambda: format_amount(rng, lang, 150_000, 4_500_000, 1000),
            "date": lambda: format_date(rng, lang, self.day - timedelta(days=rng.randint(1, 30))),
            "date_next": lambda: format_date(
                rng, lang, self.day + timedelta(days=rng.randint(1, 21))
            ),
            "weekday": lambda: rng.choice(WEEKDAYS[lang]),
            "time": lambda: (
                f"{rng.randint(8, 15)}{'.' if lang != 'en' else ':'}"
                f"{rng.choice(('00', '15', '30', '45', '10', '40'))}"
            ),
            "ref": lambda: f"{rng.randrange(1, 10)}{rng.randrange(10 ** rng.choice((5, 6))):d}",
            "n": lambda: str(rng.randint(2, 9)),
            "country": lambda: rng.choice(COUNTRIES[lang]),
        }
        maker = makers.get(name)
        if maker is None:
            return None
        if name in self._sticky:
            return self._sticky[name]
        text = maker()
        if name in _STICKY_PLACEHOLDERS:
            self._sticky[name] = text
        if name in _ORDINARY_PLACEHOLDERS:
            self.used.append(text)
        return text

    def fill(self, template: str) -> str:
        def replace(match: re.Match[str]) -> str:
            text = self.value(match[1])
            if text is None:
                if match[1] not in self._unknown_logged:
                    logger.debug("unknown placeholder {%s}", match[1])
                    self._unknown_logged.add(match[1])
                return match[0]
            return text

        return _PLACEHOLDER.sub(replace, template)


_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "da": (
        ("Kunden ", "Kd. "),
        ("kunden", "kd."),
        ("telefon", "tlf."),
        ("i morgen", "imorgen"),
        ("ikke", "ik"),
        ("pga.", "pga"),
        ("Kunden ", "KD "),
        ("oplyst", "opl."),
        ("vedr.", "ang."),
        ("og", "+"),
    ),
    "no": (
        ("Kunden ", "Kd. "),
        ("kunden", "kd."),
        ("telefon", "tlf."),
        ("i morgen", "imorgen"),
        ("pga.", "pga"),
        ("ikke", "ikkje"),
        ("oppgitt", "oppg."),
        ("og", "+"),
    ),
    "en": (
        ("Customer ", "Cust. "),
        ("customer", "cust"),
        ("tomorrow", "tmrw"),
        ("and", "&"),
        ("because", "bc"),
        ("appointment", "appt"),
        ("approximately", "approx"),
    ),
}
_NOTE_PREFIXES: dict[str, tuple[str, ...]] = {
    "da": ("Kunde ringer: ", "Ang. henvendelse: ", "Opkald: ", "NB: "),
    "no": ("Kunde ringer: ", "Henvendelse: ", "Samtale: ", "NB: "),
    "en": ("Caller: ", "Re: ", "Call: "),
}


def _typo(rng: random.Random, text: str) -> str:
    """Swap two adjacent letters in one longer word (a typing slip)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def note_style(rng: random.Random, lang: str, text: str) -> str:
    """Vary a summary the way different note-takers write: abbreviations, case, typos.

    Args:
        rng: Random source.
        lang: Language of the note.
        text: The filled summary.

    Returns:
        The summary in one note-taker's style (often unchanged).
    """
    for long, short in _ABBREVIATIONS[lang]:
        pattern = rf"(?<!\w){re.escape(long.strip())}(?!\w)"
        if re.search(pattern, text) and rng.random() < 0.2:
            text = re.sub(pattern, short.strip(), text, count=1)
    if rng.random() < 0.08:
        text = rng.choice(_NOTE_PREFIXES[lang]) + text[:1].lower() + text[1:]
    if rng.random() < 0.05:
        text = _typo(rng, text)
    if rng.random() < 0.08:
        text = text.lower()
    if rng.random() < 0.2:
        text = text.rstrip(".")
    return text


_WORD = re.compile(r"\w{4,}")


def _matching_answer(rng: random.Random, phrasing: str, answers: Sequence[str]) -> str:
    """Pick the agent answer sharing most words with what the customer said (ties: random)."""
    if rng.random() < 0.3:
        return rng.choice(answers)
    said = {w.lower()[:5] for w in _WORD.findall(phrasing)}
    scores = [len(said & {w.lower()[:5] for w in _WORD.findall(a)}) for a in answers]
    best = max(scores)
    return rng.choice([a for a, sc in zip(answers, scores, strict=True) if sc == best])


def _append(summary: str, clause: str) -> str:
    """Append a sentence to a note, adding the full stop the note-taker left out."""
    summary = summary.rstrip()
    if summary and summary[-1] not in ".!?":
        summary += "."
    return f"{summary} {clause}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _companies(sector: str, lang: str) -> tuple[str, ...]:
    da, no = _COMPANIES.get(sector, _DEFAULT_COMPANIES)
    return {"da": da, "no": no}.get(lang, da + no)


_PII_KINDS: dict[str, tuple[str, ...]] = {
    "da": ("cpr", "cpr", "phone_dk", "email", "card", "iban_dk", "account_dk"),
    "no": ("fnr", "fnr", "dnr", "phone_no", "email", "card", "iban_no", "account_no"),
    "en": ("cpr", "fnr", "phone_dk", "phone_no", "email", "card", "iban_dk", "iban_no"),
}
_PII_SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "da": {
        "cpr": ("mit cpr-nummer er {v}", "cpr er {v}", "det er {v} mit personnummer"),
        "phone": ("I kan ringe mig på {v}", "mit nummer er {v} hvis I skal ringe tilbage"),
        "email": ("min mail er {v}", "send det gerne til {v}"),
        "card": ("kortnummeret er {v}", "det er kortet {v}"),
        "iban": ("IBAN er {v}", "pengene skal ind på {v}"),
        "account": ("min konto er {v}", "reg og kontonummer {v}"),
    },
    "no": {
        "fnr": ("personnummeret mitt er {v}", "fødselsnummer {v}", "det er {v}"),
        "phone": ("dere kan ringe meg på {v}", "nummeret mitt er {v}"),
        "email": ("e-posten min er {v}", "send det til {v}"),
        "card": ("kortnummeret er {v}", "det gjelder kortet {v}"),
        "iban": ("IBAN er {v}", "pengene kan gå til {v}"),
        "account": ("kontonummeret mitt er {v}", "kontoen er {v}"),
    },
    "en": {
        "cpr": ("my CPR number is {v}", "CPR {v}"),
        "fnr": ("my national ID number is {v}", "fødselsnummer {v}"),
        "phone": ("you can call me back on {v}", "my number is {v}"),
        "email": ("my email is {v}", "please send it to {v}"),
        "card": ("the card number is {v}", "it's card {v}"),
        "iban": ("my IBAN is {v}", "the money should go to {v}"),
        "account": ("my account is {v}", "account {v}"),
    },
}
_PII_SUMMARY: dict[str, str] = {
    "da": "Kunde opgav {v}.",
    "no": "Kunden oppga {v}.",
    "en": "Customer gave {v}.",
}


def _pii_value(rng: random.Random, kind: str, first: str, last: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        "cpr": lambda: fake_cpr(rng),
        "fnr": lambda: fake_fnr(rng),
        "dnr": lambda: fake_fnr(rng, d_number=True),
        "phone_dk": lambda: fake_phone_dk(rng),
        "phone_no": lambda: fake_phone_no(rng),
        "email": lambda: fake_email(rng, first, last),
        "card": lambda: fake_card(rng),
        "iban_dk": lambda: fake_iban(rng, "DK"),
        "iban_no": lambda: fake_iban(rng, "NO"),
        "account_dk": lambda: fake_account_dk(rng)[0],
        "account_no": lambda: fake_account_no(rng, formatted=rng.random() < 0.7),
    }
    return makers[kind]()


def _pii_sentence(rng: random.Random, lang: str, kind: str, value: str) -> str:
    family = {
        "dnr": "fnr",
        "phone_dk": "phone",
        "phone_no": "phone",
        "iban_dk": "iban",
        "iban_no": "iban",
        "account_dk": "account",
        "account_no": "account",
    }.get(kind, kind)
    table = _PII_SENTENCES[lang]
    if family not in table:  # e.g. a Norwegian number read out in a Danish call
        table = _PII_SENTENCES["en"]
    return _capitalise(rng.choice(table[family]).format(v=value)) + "."


class _Builder:
    """Builds the text parts of one call."""

    def __init__(self, rng: random.Random, reasons: Sequence[Reason]) -> None:
        self.rng = rng
        self.reasons = reasons
        self.by_sector: dict[str, list[Reason]] = {}
        for reason in reasons:
            self.by_sector.setdefault(reason.sector, []).append(reason)

    def _second_reason(self, primary: Reason) -> Reason | None:
        """A second reason the same customer plausibly raises: same sector or a generic one."""
        pool = [
            r
            for r in self.reasons
            if r.key != primary.key
            and r.pattern != "emerging"
            and (r.sector == primary.sector or r.sector in GENERIC_SECTORS)
        ]
        same = [r for r in pool if r.sector == primary.sector]
        if same and self.rng.random() < PROBABILITY_SECOND_SAME_SECTOR:
            pool = same
        return self.rng.choice(pool) if pool else None

    def build(self, call: Call) -> None:
        rng, lang, reason = self.rng, call.language, call.reason
        filler = _Filler(rng, lang, call.local_start.date())
        if not call.answered:
            minutes = rng.randint(1, 9)
            call.summary = rng.choice(UNANSWERED_SUMMARIES[lang]).format(
                minutes=minutes, name=reason.names[lang], queue=call.queue
            )
            call.transcript = ""
            return

        second = self._second_reason(reason) if rng.random() < PROBABILITY_SECOND_REASON else None
        first_name = rng.choice(FIRST_NAMES[lang])
        last_name = rng.choice(LAST_NAMES[lang])
        pii: list[tuple[str, str]] = []
        if rng.random() < PROBABILITY_PII:
            kinds = _PII_KINDS[lang]
            for kind in rng.sample(kinds, 2 if rng.random() < 0.25 else 1):
                pii.append((kind, _pii_value(rng, kind, first_name, last_name)))

        # Summary
        summary = note_style(rng, lang, filler.fill(rng.choice(reason.summaries[lang])))
        if second is not None:
            clause = rng.choice(SECOND_CLAUSES[lang])
            name = _NAME_PREFIX.sub("", second.names[lang]).lower()
            summary = _append(summary, clause.format(name=name))
        if rng.random() < PROBABILITY_REFERENCE_NOTE:
            summary = _append(summary, filler.fill(rng.choice(REFERENCE_NOTES[lang])))
        if rng.random() < PROBABILITY_EMPTY_SUMMARY and call.channel == "phone":
            summary = ""  # the note-taker wrote nothing; the transcript carries the reason
            filler.used = []
        elif pii and rng.random() < PROBABILITY_PII_IN_SUMMARY:
            kind, value = pii[0]
            summary = _append(summary, _PII_SUMMARY[lang].format(v=value))
            call.pii.append(("summary", kind, value))
        call.summary = summary
        call.ordinary.extend(("summary", v) for v in filler.used)
        filler.used = []

        # Transcript
        agent_label, customer_label = SPEAKERS[lang]
        turns: list[tuple[str, str]] = []
        agent = "agent"
        customer = "customer"
        company = rng.choice(_companies(reason.sector, lang))
        agent_name = rng.choice(FIRST_NAMES[lang if lang != "en" else rng.choice(("da", "no"))])
        phrasing = filler.fill(rng.choice(reason.phrasings[lang]))
        phrasing = _capitalise(_typo(rng, phrasing) if rng.random() < 0.06 else phrasing)
        answer = filler.fill(_matching_answer(rng, phrasing, reason.agent_answers[lang]))
        id_kind = "birth" if pii or rng.random() < 0.5 else "number"
        id_request = rng.choice(ID_REQUESTS[id_kind][lang])
        ident = self._identity(call, first_name, last_name, pii, id_kind)
        names_said: list[str] = []
        if f"{first_name} {last_name}" in ident:
            names_said.append(f"{first_name} {last_name}")

        if call.channel == "email":
            sign = {"da": "Mvh", "no": "Mvh", "en": "Kind regards"}[lang]
            body = f"{phrasing.rstrip('.?!')}. {ident}"
            reply = answer
            if second is not None:
                extra = filler.fill(rng.choice(second.phrasings[lang]))
                body = f"{body} {rng.choice(SECOND_INTROS[lang])}{extra.rstrip('.?!')}."
                second_answer = _matching_answer(rng, extra, second.agent_answers[lang])
                reply = f"{answer} {filler.fill(second_answer)}"
            turns.append((customer, f"{body} {sign} {first_name}"))
            hello = {"da": "Hej", "no": "Hei", "en": "Hi"}[lang]
            turns.append((agent, f"{hello} {first_name}. {reply} {sign} {agent_name}, {company}"))
            names_said.extend((first_name, agent_name))
        else:
            greetings = CHAT_GREETINGS if call.channel == "chat" else GREETINGS
            turns.append(
                (agent, rng.choice(greetings[lang]).format(company=company, agent=agent_name))
            )
            names_said.append(agent_name)
            if rng.random() < 0.55:  # reason straight away
                turns.append((customer, phrasing))
                turns.append((agent, id_request))
                turns.append((customer, ident))
            else:  # small talk / identification first, reason later
                opener = rng.choice(OPENERS[lang])
                turns.append((customer, opener.format(first=first_name, last=last_name)))
                if "{last}" in opener:
                    names_said.append(f"{first_name} {last_name}")
                elif "{first}" in opener:
                    names_said.append(first_name)
                turns.append((agent, id_request))
                turns.append((customer, ident))
                ask = {
                    "da": "Tak. Hvad drejer det sig om?",
                    "no": "Takk. Hva gjelder det?",
                    "en": "Thank you. What is it about?",
                }[lang]
                turns.append((agent, ask))
                turns.append((customer, phrasing))
            turns.append((agent, rng.choice(HOLDS[lang])))
            turns.append((agent, answer))
            if rng.random() < PROBABILITY_REFERENCE_LINE:
                turns.append((agent, filler.fill(rng.choice(REFERENCE_LINES[lang]))))
            turns.append((customer, rng.choice(ACKS[lang])))
            if second is not None:
                extra = filler.fill(rng.choice(second.phrasings[lang]))
                turns.append((customer, f"{rng.choice(SECOND_INTROS[lang])}{extra}"))
                turns.append(
                    (agent, filler.fill(_matching_answer(rng, extra, second.agent_answers[lang])))
                )
            closing = rng.choice(CLOSINGS[lang])
            turns.extend(((agent, closing[0]), (customer, closing[1]), (agent, closing[2])))

        call.pii.extend(("transcript", kind, value) for kind, value in pii)
        # Names and birth dates said in the transcript are personal data too (recorded only:
        # no draw from `rng`, so the calls stay as they were).
        for name in dict.fromkeys(names_said):
            call.pii.append(("transcript", "name", name))
        call.ordinary.extend(("transcript", v) for v in filler.used)
        labels = {agent: agent_label, customer: customer_label}
        if rng.random() < PROBABILITY_JSON_TRANSCRIPT:
            call.transcript = json.dumps(
                [{"speaker": labels[s], "text": t} for s, t in turns], ensure_ascii=False
            )
        else:
            call.transcript = "\n".join(f"{labels[s]}: {t}" for s, t in turns)

    def _identity(
        self, call: Call, first: str, last: str, pii: list[tuple[str, str]], kind: str
    ) -> str:
        rng, lang = self.rng, call.language
        if pii:
            parts = [_pii_sentence(rng, lang, kind, value) for kind, value in pii]
            intro = {
                "da": "Jeg hedder {f} {la}.",
                "no": "Jeg heter {f} {la}.",
                "en": "My name is {f} {la}.",
            }[lang].format(f=first, la=last)
            return " ".join([intro, *parts])
        born = _birth_date(rng)
        number = customer_number(rng)
        call.ordinary.append(("transcript", number))
        options: tuple[str, ...]
        if call.channel == "email":
            options = {
                "da": (f"Kundenr. {number}.",),
                "no": (f"Kundenr. {number}.",),
                "en": (f"Customer no. {number}.",),
            }[lang]
        elif kind == "number":
            options = {
                "da": (
                    f"Kundenummeret er {number}.",
                    f"Ja, det er {first} {last}, mit kundenummer er {number}.",
                    f"Øhm, vent lige... det er {number}.",
                ),
                "no": (
                    f"Kundenummeret er {number}.",
                    f"Det er {first} {last}, kundenummer er {number}.",
                    f"Eh, vent litt... {number}.",
                ),
                "en": (f"My customer number is {number}.", f"Yes, it's {number}."),
            }[lang]
        else:
            call.ordinary.pop()
            options = {
                "da": (
                    f"Ja, jeg hedder {first} {last}, født {born.day}. "
                    f"{MONTHS['da'][born.month - 1]} {born.year}.",
                    f"{first} {last}, født {born:%d.%m.%y}.",
                ),
                "no": (
                    f"Jeg heter {first} {last}, født {born:%d.%m.%Y}.",
                    f"{first} {last}, født {born.day}. {MONTHS['no'][born.month - 1]} {born.year}.",
                ),
                "en": (
                    f"My name is {first} {last}, date of birth {born.day} "
                    f"{MONTHS['en'][born.month - 1]} {born.year}.",
                ),
            }[lang]
            said = rng.choice(options)
            for shown in (
                f"{born.day}. {MONTHS[lang][born.month - 1]} {born.year}",
                f"{born.day} {MONTHS[lang][born.month - 1]} {born.year}",
                f"{born:%d.%m.%Y}",
                f"{born:%d.%m.%y}",
            ):
                if shown in said:
                    call.pii.append(("transcript", "date_of_birth", shown))
                    break
            return said
        return rng.choice(options)


def generate(
    reasons: Sequence[Reason], calls: int = DEFAULT_CALLS, seed: int = DEFAULT_SEED
) -> list[Call]:
    """Generate the calls (sorted by start time, then call id).

    Args:
        reasons: Source reasons (sorted by key).
        calls: Total number of calls over the twelve weeks.
        seed: Seed of the random source.

    Returns:
        The generated calls.
    """
    rng = random.Random(seed)
    matrix = weekly_counts(reasons, calls, rng)
    builder = _Builder(rng, reasons)
    result: list[Call] = []
    for w, counts in enumerate(matrix):
        for reason, n in zip(reasons, counts, strict=True):
            for _ in range(n):
                lang = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
                channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
                local = _start_time(rng, w, channel)
                answered = not (channel == "phone" and rng.random() < PROBABILITY_UNANSWERED_PHONE)
                if channel == "email":
                    duration = ""
                elif not answered:
                    duration = str(rng.randint(15, 540))
                elif channel == "chat":
                    duration = str(rng.randint(240, 1500))
                else:
                    duration = str(max(35, min(2400, int(rng.lognormvariate(5.5, 0.55)))))
                business = rng.random() < BUSINESS_SHARE.get(reason.sector, 0.1)
                call = Call(
                    call_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    week_index=w,
                    reason=reason,
                    language=lang,
                    started_at=_format_started_at(rng, local),
                    local_start=local,
                    channel=channel,
                    queue=reason.queue,
                    customer_type="business" if business else "private",
                    answered=answered,
                    duration_seconds=duration,
                )
                builder.build(call)
                result.append(call)
    result.sort(key=lambda c: (c.local_start, c.call_id))
    plant_privacy(result, seed)
    return result


# --------------------------------------------------------------------------------------------
# Who a person is: names, birth dates, addresses and mistyped account numbers
# --------------------------------------------------------------------------------------------

PRIVACY_PLANTS_PER_KIND = 24  # half in summaries, half in transcripts
_STREET_STEMS = ("Nørre", "Vester", "Fjord", "Skov", "Kirke", "Strand", "Mølle", "Bakke", "Ny")
_STREET_SUFFIXES: dict[str, tuple[str, ...]] = {
    "da": ("gade", "vej", "stræde", "allé", "plads", "boulevarden"),
    "no": ("gata", "gate", "gaten", "veien", "vei", "vegen"),
}
_TOWNS: dict[str, tuple[str, ...]] = {
    "da": ("Køge", "Aarhus C", "Odense M", "København V", "Aalborg", "Vejle"),
    "no": ("Oslo", "Bergen", "Trondheim", "Tromsø", "Drammen", "Bodø"),
}
_PRIVACY_SUMMARY: dict[str, dict[str, tuple[str, ...]]] = {
    "da": {
        "name": ("Kunden hedder {v} og vil have svar.", "Ring tilbage til {v}.", "Kunde {v}."),
        "surname": ("{v} ønsker svar på mail.", "Fru {v} ringer igen i morgen."),
        "date_of_birth": ("Født {v}.", "Kunden er født den {v}.", "Fødselsdato {v}."),
        "address": ("Bor på {v}.", "Ny adresse: {v}.", "Pakken skal til {v}."),
        "iban_invalid": ("Overført til konto {v}.", "Pengene skal til {v}."),
        "account_dk_reg": ("Udbetaling til {v}.", "Kontooplysninger: {v}."),
        "account_no_invalid": ("Udbetaling til {v}.",),
    },
    "no": {
        "name": ("Kunden heter {v} og vil ha svar.", "Ring tilbake til {v}.", "Kunde {v}."),
        "surname": ("{v} vil ha svar på e-post.", "Fru {v} ringer igjen i morgen."),
        "date_of_birth": ("Født {v}.", "Kunden er fødd {v}.", "Fødselsdato {v}."),
        "address": ("Bor i {v}.", "Ny adresse: {v}.", "Pakken skal til {v}."),
        "iban_invalid": ("Overført til konto {v}.", "Pengene skal til {v}."),
        "account_dk_reg": ("Utbetaling til dansk konto {v}.",),
        "account_no_invalid": ("Utbetaling til {v}.", "Pengene skal til {v}."),
    },
    "en": {
        "name": ("The customer's name is {v}.", "Call back {v}.", "Customer {v} called again."),
        "surname": ("Mrs {v} wants an answer.", "{v} will call back tomorrow."),
        "date_of_birth": ("Born {v}.", "Date of birth {v}.", "Customer was born on {v}."),
        "address": ("Lives at {v}.", "New address: {v}.", "Parcel goes to {v}."),
        "iban_invalid": ("Refund to account {v}.", "The money should go to {v}."),
        "account_dk_reg": ("Refund to Danish account {v}.",),
        "account_no_invalid": ("Refund to {v}.",),
    },
}
_PRIVACY_TURN: dict[str, dict[str, tuple[str, ...]]] = {
    "da": {
        "name": ("Jeg ringer for min mor, hun hedder {v}.", "Mit navn er {v}."),
        "surname": ("Det står i {v}s navn, {v} altså.",),
        "date_of_birth": ("Jeg er født {v}.", "Min fødselsdato er {v}."),
        "address": ("Jeg bor på {v}.", "Adressen er {v}."),
        "iban_invalid": ("Det er konto {v}.", "Jeg overførte til {v}."),
        "account_dk_reg": ("Min konto er {v}.",),
        "account_no_invalid": ("Min norske konto er {v}.",),
    },
    "no": {
        "name": ("Jeg ringer for mora mi, hun heter {v}.", "Navnet mitt er {v}."),
        "surname": ("Det står på {v}, altså familien {v}.",),
        "date_of_birth": ("Jeg er født {v}.", "Fødselsdatoen er {v}."),
        "address": ("Jeg bor i {v}.", "Adressen er {v}."),
        "iban_invalid": ("Det er konto {v}.", "Jeg overførte til {v}."),
        "account_dk_reg": ("Den danske kontoen er {v}.",),
        "account_no_invalid": ("Kontonummeret mitt er {v}.", "Det er {v}."),
    },
    "en": {
        "name": ("I'm calling for my mother, her name is {v}.", "This is {v} speaking."),
        "surname": ("It's under {v}, the {v} family.",),
        "date_of_birth": ("I was born on {v}.", "My date of birth is {v}."),
        "address": ("I live at {v}.", "The address is {v}."),
        "iban_invalid": ("It's account {v}.", "I transferred it to {v}."),
        "account_dk_reg": ("My Danish account is {v}.",),
        "account_no_invalid": ("My Norwegian account is {v}.",),
    },
}


def _privacy_value(rng: random.Random, kind: str, lang: str) -> str:
    """One fake identifier of the new kinds, in the call's language."""
    people = "no" if lang == "no" else "da" if lang == "da" else rng.choice(("da", "no", "en"))
    if kind == "name":
        return f"{rng.choice(FIRST_NAMES[people])} {rng.choice(LAST_NAMES[people])}"
    if kind == "surname":
        return rng.choice(LAST_NAMES[people])
    if kind == "date_of_birth":
        born = _birth_date(rng)
        month = MONTHS["en" if lang == "en" else lang][born.month - 1]
        if lang == "en":
            return rng.choice(
                (f"{month} {born.day}, {born.year}", f"{born.day} {month} {born.year}")
            )
        return rng.choice(
            (
                f"{born.day}. {month} {born.year}",
                f"{born:%d.%m.%Y}",
                f"{born.day}/{born.month}-{born:%y}",
                f"{born:%Y-%m-%d}",
            )
        )
    if kind == "address":
        where = lang if lang != "en" else rng.choice(("da", "no"))
        stem = rng.choice(_STREET_STEMS)
        suffix = rng.choice(_STREET_SUFFIXES[where])
        street = f"{stem} {suffix.capitalize()}" if suffix == "allé" else f"{stem}{suffix}"
        number = f"{rng.randint(1, 140)}{rng.choice(('', '', '', 'B', 'A'))}"
        floor = rng.choice(("", "", ", 2. tv.", ", st. th.", ", 1. mf.", " 3. th."))
        town = f", {rng.randrange(1000, 9990)} {rng.choice(_TOWNS[where])}"
        return f"{street} {number}{floor}{town if rng.random() < 0.6 else ''}"
    if kind == "iban_invalid":
        country = rng.choice(("DK", "NO", "SE", "DE", "GB", "FI"))
        digits = {"DK": 14, "NO": 11, "SE": 20, "DE": 18, "GB": 14, "FI": 14}[country]
        bban = "".join(str(rng.randrange(10)) for _ in range(digits))
        if country == "GB":
            bban = "NWBK" + bban
        valid = _iban(country, bban)
        check = (int(valid[2:4]) + rng.randint(1, 50)) % 97 + 2
        iban = f"{country}{check:02d}{bban}"
        return _group_iban(iban) if rng.random() < 0.5 else iban
    if kind == "account_dk_reg":
        reg = f"{rng.randrange(1000, 9999)}"
        account = f"{rng.randrange(10**5, 10**10):010d}"
        return rng.choice(
            (
                f"reg. {reg} konto {account}",
                f"reg.nr. {reg}, kontonr. {account}",
                f"regnr {reg} kontonummer {account.lstrip('0')}",
            )
        )
    if kind == "account_no_invalid":
        while True:
            number = f"{rng.randrange(1000, 9999)}{rng.randrange(10**7):07d}"
            if not _no_account_valid(number):
                break
        return rng.choice(
            (
                f"{number[:4]}.{number[4:6]}.{number[6:]}",
                f"{number[:4]} {number[4:6]} {number[6:]}",
                f"kontonummer {number}",
            )
        )
    raise ValueError(kind)


def _group_iban(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _no_account_valid(number: str) -> bool:
    check = _mod11(number[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    return check is not None and check == int(number[10])


def _append_turn(transcript: str, speaker: str, text: str) -> str:
    if transcript.startswith("["):
        turns = json.loads(transcript)
        turns.append({"speaker": speaker, "text": text})
        return json.dumps(turns, ensure_ascii=False)
    return f"{transcript}\n{speaker}: {text}"


def plant_privacy(calls: Sequence[Call], seed: int) -> None:
    """Plant names, birth dates, addresses and mistyped account numbers in a few calls.

    Draws from its own random stream, so every other call stays exactly as `generate` made it.
    Each kind goes into `PRIVACY_PLANTS_PER_KIND` calls, half in the summary, half as one more
    customer turn in the transcript, and is recorded in the call's planted truth.
    """
    rng = random.Random(f"{seed}-privacy")
    eligible = [i for i, c in enumerate(calls) if c.answered and c.summary and c.transcript]
    kinds = tuple(_PRIVACY_SUMMARY["da"])
    picked = rng.sample(eligible, len(kinds) * PRIVACY_PLANTS_PER_KIND)
    for n, index in enumerate(picked):
        call = calls[index]
        kind = kinds[n // PRIVACY_PLANTS_PER_KIND]
        lang = call.language
        value = _privacy_value(rng, kind, lang)
        recorded = "name" if kind == "surname" else kind
        if n % 2 == 0:
            clause = rng.choice(_PRIVACY_SUMMARY[lang][kind]).format(v=value)
            call.summary = _append(call.summary, _capitalise(clause))
            call.pii.append(("summary", recorded, value))
        else:
            clause = rng.choice(_PRIVACY_TURN[lang][kind]).format(v=value)
            call.transcript = _append_turn(call.transcript, SPEAKERS[lang][1], clause)
            call.pii.append(("transcript", recorded, value))


def small_subset(calls: Sequence[Call], size: int = SMALL_SUBSET_SIZE) -> list[Call]:
    """A fixed subset spread over all reasons and weeks (round-robin over reasons).

    Args:
        calls: All generated calls.
        size: Number of calls to pick.

    Returns:
        The picked calls, sorted by start time.
    """
    per_reason: dict[str, list[Call]] = {}
    for call in calls:
        per_reason.setdefault(call.reason.key, []).append(call)
    queues: list[list[Call]] = []
    for position, key in enumerate(sorted(per_reason)):
        by_week: dict[int, list[Call]] = {}
        for call in per_reason[key]:
            by_week.setdefault(call.week_index, []).append(call)
        interleaved: list[Call] = []
        depth = max(len(v) for v in by_week.values())
        weeks = sorted(by_week)
        shift = (position * 5) % len(weeks)  # rotate so the subset covers every week evenly
        weeks = weeks[shift:] + weeks[:shift]
        for i in range(depth):
            for week in weeks:
                if i < len(by_week[week]):
                    interleaved.append(by_week[week][i])
        queues.append(interleaved)
    picked: list[Call] = []
    level = 0
    while len(picked) < min(size, len(calls)):
        for queue in queues:
            if level < len(queue) and len(picked) < size:
                picked.append(queue[level])
        level += 1
    picked.sort(key=lambda c: (c.local_start, c.call_id))
    return picked


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_outputs(reasons: Sequence[Reason], calls: Sequence[Call], out: Path) -> list[Path]:
    """Write week files, the small subset and the ground-truth files under ``out``.

    Args:
        reasons: Source reasons.
        calls: Generated calls (sorted).
        out: Output root (``data/sample`` by default).

    Returns:
        The written paths.
    """
    written: list[Path] = []
    calls_dir = out / "calls"
    calls_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(calls_dir.glob("calls_*.csv")):
        old.unlink()
    for w, number in enumerate(WEEK_NUMBERS):
        path = calls_dir / f"calls_{YEAR}-W{number:02d}.csv"
        _write_csv(path, CSV_COLUMNS, [c.row() for c in calls if c.week_index == w])
        written.append(path)
    path = out / "calls_small.csv"
    _write_csv(path, CSV_COLUMNS, [c.row() for c in small_subset(calls)])
    written.append(path)

    truth = out / "truth"
    rows = [[c.call_id, c.reason.key, c.language, c.week] for c in calls]
    written.append(truth / "call_reasons.csv")
    _write_csv(written[-1], ("call_id", "reason_key", "language", "week"), rows)
    rows = [
        [r.key, r.names["da"], r.names["no"], r.names["en"], r.sector, r.pattern] for r in reasons
    ]
    written.append(truth / "reasons.csv")
    _write_csv(
        written[-1], ("reason_key", "name_da", "name_no", "name_en", "sector", "pattern"), rows
    )
    rows = [
        [c.call_id, c.summary, c.reason.key, c.language] for c in calls if c.answered and c.summary
    ]
    written.append(truth / "summaries_eval.csv")
    _write_csv(written[-1], ("id", "text", "label", "language"), rows)
    rows = [[c.call_id, f, kind, value] for c in calls for f, kind, value in c.pii]
    written.append(truth / "planted_pii.csv")
    _write_csv(written[-1], ("call_id", "field", "kind", "value"), rows)
    rows = [
        [c.call_id, f, value] for i, c in enumerate(calls) if i % 3 == 0 for f, value in c.ordinary
    ]
    written.append(truth / "ordinary_numbers.csv")
    _write_csv(written[-1], ("call_id", "field", "value"), rows)

    weeks = [f"{YEAR}-W{n:02d}" for n in WEEK_NUMBERS]
    counts: dict[str, dict[str, int]] = {r.key: dict.fromkeys(weeks, 0) for r in reasons}
    for call in calls:
        counts[call.reason.key][call.week] += 1
    patterns: dict[str, object] = {
        "weeks": weeks,
        "emerging": [
            {"reason_key": r.key, "first_week": weeks[EMERGING_FIRST_INDEX]}
            for r in reasons
            if r.pattern == "emerging"
        ],
        "falls_after_faq": [
            {
                "reason_key": r.key,
                "faq_published_week": weeks[FAQ_PUBLISHED_INDEX],
                "remaining_share": FAQ_REMAINING_SHARE,
            }
            for r in reasons
            if r.pattern == "falls_after_faq"
        ],
        "seasonal": [
            {
                "reason_key": r.key,
                "peak_weeks": [
                    f"{YEAR}-W{w:02d}"
                    for w in sorted(SEASONAL_MULTIPLIERS.get(r.key, {}))
                    if w and SEASONAL_MULTIPLIERS[r.key][w] >= 2
                ],
            }
            for r in reasons
            if r.pattern == "seasonal"
        ],
        "weekly_counts": counts,
    }
    written.append(truth / "emerging.json")
    written[-1].write_text(
        json.dumps(patterns, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m contact_reasons.sample_data``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS, help="total number of calls")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="folder with reason JSON files (default: <repo>/data/sample/source/reasons)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    source = args.source or Path(__file__).resolve().parent.parent / "data/sample/source/reasons"
    reasons = load_reasons(source)
    if not reasons:
        parser.error(f"no reason files in {source}")
    calls = generate(reasons, args.calls, args.seed)
    written = write_outputs(reasons, calls, args.out)
    logger.info(
        "%d reasons, %d calls, %d files under %s", len(reasons), len(calls), len(written), args.out
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
