"""Transcripts: parse speaker turns and pick the text that says why the customer called.

A transcript is plain text with speaker prefixes, one turn per line (`Agent: ...`,
`Kunde: ...`), or a JSON list of `{"speaker": ..., "text": ...}` turns. The reason-bearing text is
the summary when there is one (a note-taker already wrote down the reason), else the customer's
first substantive turns: not the greeting, the identity check or small talk. An unanswered call
has no conversation, only the phone system's note ("Ubesvaret opkald, lagt på i kø efter 3 min.
Menuvalg: Anmeld skade."): its reason is the menu choice the caller pressed, when the note names
one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import polars as pl

CUSTOMER_SPEAKERS = frozenset(
    {"kunde", "customer", "caller", "client", "kund", "innringer", "opkalder", "borger", "user"}
)
AGENT_SPEAKERS = frozenset(
    {
        "agent",
        "medarbejder",
        "medarbeider",
        "rådgiver",
        "radgiver",
        "operator",
        "support",
        "saksbehandler",
        "konsulent",
        "advisor",
        "ansatt",
        "servicemedarbejder",
    }
)
_PREFIX = re.compile(r"^\s*([A-Za-zÆØÅæøåÄÖäöÉé0-9 .\-]{1,30}?)\s*:\s*(.*)$")
# Diarised transcripts name speakers by number or letter ("Speaker 1:", "Taler B:", "A:"); the
# one who speaks first is taken to be the agent (an inbound call is answered by the agent).
_GENERIC_SPEAKER = re.compile(
    r"^((speaker|spk|talker|taler|talar|person|deltager|deltaker|stemme|voice)\s*([0-9]{1,2}|[A-D])"
    r"|[A-D])$",
    re.IGNORECASE,
)

# Words that carry no reason on their own: greetings, acknowledgements, hesitation, politeness.
# A sentence made only of these (and numbers) is small talk: "Nå okay, det er fint",
# "Øhm, vent lige... det er 6385141", "Nei, det var alt".
_FILLER_WORDS = frozenset(
    """
    ja jo jeps jep nej nei næh no nope yes yeah yep ok okay okey oki nå nåh å åh ah aha oh
    hej hei hallo hello hi hey goddag god dag morgen godmorgen morning good afternoon
    tak takk thanks thank you mange tusind tusen super supert perfekt fint fin flott fine great
    godt greit bra right sure klart selvfølgelig selvfølgelig præcis akkurat exactly correct
    korrekt rigtigt riktig skjønner forstår forstået understand see mhm hm hmm mm øh øhm eh ehm
    uh uhm um altså liksom så og and men but det der den de dette er var is was it that's that
    this it's bare kun just only alt all vent venter wait lige litt lidt a bit sekund sekunder
    second seconds moment øjeblik øyeblikk et en ei to two one i jeg eg me my mig meg
    """.split()
)
# Words that introduce the caller: with only names left, the sentence is a self-introduction
# ("Ja hej, det er Jens Nielsen", "Goddag, Per her", "Hi, my name is Ann Lee").
_INTRO_WORDS = frozenset(
    "hedder heter hete navn name mit mitt min er is this it's here her called ringer taler".split()
)
# Identification: redacted identifiers, customer/birth numbers and dates, policy numbers.
_IDENTITY = re.compile(
    r"\[(CPR|FNR|PHONE|EMAIL|ACCOUNT|CARD|IBAN|NAME|DATE_OF_BIRTH|ADDRESS)\]|"
    r"\b(mit navn er|jeg hedder|jeg heter|mitt navn er|my name is|født|fødselsdato|"
    r"date of birth|kundenummer(et)?|kundenr|"
    r"customer (number|no)|personnummer|cpr-?nummer)\b",
    re.IGNORECASE,
)
_MAX_IDENTITY_WORDS = 5
# Closing sentences: "Nej det var det, tak for hjælpen", "Nei, det var alt", "That's all".
_CLOSING = re.compile(
    r"^\W*(nej|nei|no|nope)?\W*(det var (det|alt)|that'?s (it|all)|ellers ikke|ikke (mere|mer))\b"
    r"|\b(tak|takk|mange tak|tusind tak|tusen takk) for (hjælpen|hjelpen|det|nu|i dag)\b"
    r"|\bthanks? (you )?for (your|the) help\b",
    re.IGNORECASE,
)
# E-mail and chat sign-offs end the reason: "Mvh Fatima", "Kind regards, Ann".
_SIGN_OFF = re.compile(
    r"^\W*(mvh|vh|hilsen|venlig hilsen|med venlig hilsen|med vennlig hilsen|vennlig hilsen|"
    r"kind regards|best regards|regards|cheers)\b",
    re.IGNORECASE,
)
# Apologies and announcements before the reason: "undskyld jeg står lige i Netto",
# "jeg har et spørgsmål", "is this the right number?". Used only when nothing else is said.
_PREAMBLE = re.compile(
    r"^\W*((ja|jo|yes|hej|hei|hallo|hello|hi|hey|there|goddag|god dag|eh|øh|øhm)\W+)*("
    r"undskyld|unnskyld|sorry|beklager|excuse me|"
    r"(jeg|eg|i) (har|have|lurte|lurer|ville|vil|wanted|want|was wondering)"
    r"( bare| just| lige| litt)?"
    r"( på| om| et| en| ei| a| an| noget| noe| et par| a few| a quick| a couple of| høre"
    r"| spørre| ask)*( kort| lille| hurtigt| quick| little)?"
    r" (spørgsmål|spørsmål|question|questions|ting|thing|things)\b|"
    r".*\bright (number|place)\b|.*\brette (nummer|sted)\b|.*\briktige (nummer|sted)\b)",
    re.IGNORECASE,
)
# A second topic starts: what follows is another reason, not this one.
_SECOND_TOPIC = re.compile(
    r"^\W*((ja|nå|oh|and|og)\W+)*(og så|og en ting (til|mere)|en ting til|forresten|"
    r"mens jeg har dig|når jeg først har deg|desuden|i tillegg|also|while i have you|"
    r"one more thing|by the way|btw)\b",
    re.IGNORECASE,
)
# The agent asks who is calling: the customer's answer identifies, it does not explain.
_ASKS_IDENTITY = re.compile(
    r"\b(fødselsdato|fødselsnummer|personnummer|kundenummer(et)?|cpr|navn|identitet|hvem taler "
    r"jeg med|hvem er du|hva heter du|bekræfte|bekrefte|date of birth|customer number|"
    r"your (full )?name|who am i speaking|confirm your|policenummer|policy number)\b",
    re.IGNORECASE,
)
# The agent asks whether there is anything else: the call is closing.
_ASKS_ANYTHING_ELSE = re.compile(
    r"\b(andet|noget mere|mere|noe mer|noe annet|anything else|something else)\b[^.!]*\?",
    re.IGNORECASE,
)
# What agents say, for transcripts without speaker labels: greetings with the company or the
# agent's name, "how can I help", holds.
_AGENT_SCRIPT = re.compile(
    r"\b(du taler med|du snakker med|du chatter med|velkommen til|welcome to|you'?re speaking "
    r"(with|to)|you are speaking (with|to)|you'?re chatting with|(hvad|hva) kan jeg hjælpe|"
    r"(hvad|hva) kan jeg hjelpe|how can i help|what can i do for you|hvordan kan jeg hjælpe|"
    r"hvordan kan jeg hjelpe|hvad drejer det sig om|hva gjelder det|et øjeblik|et øyeblikk|"
    r"one moment)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# A full stop after these is no sentence end when a number or a lower-case word follows:
# "løn d. 31", "kl. 12", "ca. 200 kr", "26. september", "1. tv", "f.eks. en faktura".
_ABBREVIATIONS = frozenset(
    "d kl ca nr tlf evt pga inkl ekskl excl incl osv mv dvs mht jf vedr att ang st mr mrs ms "
    "dr prof vs etc ref f.eks bl.a e.g i.e m.m o.l s.k".split()
)
_CONTINUES = re.compile(r"[0-9a-zæøåäöü]")


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: split after . ! or ? and a space, and at line breaks.

    A full stop after an abbreviation or a number does not end the sentence when a number or
    a lower-case word follows ("Jeg får først løn d. 31", "flyttet 26. september"); after any
    other word it does, whatever follows ("Virker ikke. naboen har net").

    >>> split_sentences("Jeg får løn d. 31. Kan jeg vente? ja tak")
    ['Jeg får løn d. 31.', 'Kan jeg vente?', 'ja tak']
    """
    out: list[str] = []
    for line in text.splitlines():
        sentences: list[str] = []  # per line: a line break always ends a sentence
        for part in _SENTENCE.split(line.strip()):
            if not part:
                continue
            last = sentences[-1] if sentences else ""
            if last.endswith(".") and _CONTINUES.match(part) and _open_ended(last):
                sentences[-1] = f"{last} {part}"
            else:
                sentences.append(part)
        out += sentences
    return out


def _open_ended(sentence: str) -> bool:
    """Whether a sentence's final full stop closes an abbreviation or a number, not it."""
    last = sentence.rsplit(maxsplit=1)[-1][:-1].lower()
    return last.isdigit() or last in _ABBREVIATIONS


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_MIN_WORDS = 5
_NOT_A_REASON = re.compile(
    r"^\s*(ja|jo|nej|nei|no|yes|ok(ay)?|tak|takk|thanks?( you)?|hej|hei|hello|hi)\b[\s,.!]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One speaker turn."""

    speaker: str
    text: str

    @property
    def is_customer(self) -> bool:
        """Whether the speaker is the customer."""
        return self.speaker.strip().lower() in CUSTOMER_SPEAKERS


def parse_transcript(transcript: str | None) -> list[Turn]:
    """Split a transcript into turns; lines without a prefix continue the previous turn."""
    if not transcript or not transcript.strip():
        return []
    stripped = transcript.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            return [
                Turn(str(t.get("speaker", "")), str(t.get("text", "")).strip())
                for t in data
                if isinstance(t, dict) and str(t.get("text", "")).strip()
            ]
    turns: list[Turn] = []
    for line in stripped.splitlines():
        if not line.strip():
            continue
        match = _PREFIX.match(line)
        known = match and (
            match[1].strip().lower() in CUSTOMER_SPEAKERS | AGENT_SPEAKERS
            or _GENERIC_SPEAKER.match(match[1].strip())
        )
        if match and known:
            turns.append(Turn(match[1].strip(), match[2].strip()))
        elif turns:
            turns[-1] = Turn(turns[-1].speaker, f"{turns[-1].text} {line.strip()}")
        else:
            turns.append(Turn("", line.strip()))
    return turns


def sentence_kind(sentence: str) -> str:
    """Classify one sentence of a customer turn.

    Returns:
        'noise' (greeting, acknowledgement, self-introduction, identification, closing,
        sign-off), 'preamble' (an apology or "I have a question": used only when the caller says
        nothing else), 'second' (a second topic starts here) or 'reason'.
    """
    words = _WORD.findall(sentence)
    low = [w.lower() for w in words]
    content = [w for w, lw in zip(words, low, strict=True) if lw not in _FILLER_WORDS]
    content = [w for w in content if not any(c.isdigit() for c in w)]
    if not content or _CLOSING.search(sentence) or _SIGN_OFF.match(sentence):
        return "noise"
    if _IDENTITY.search(sentence) and len(content) <= _MAX_IDENTITY_WORDS:
        return "noise"  # "Mit kundenummer er 123", "Min mail er [EMAIL]", "født 3. maj"
    names = [w for w in content if w.lower() not in _INTRO_WORDS]
    if len(names) <= 3 and all(w[:1].isupper() for w in names):
        return "noise"  # "det er Jens Nielsen", "Per her", "my name is Ann"
    if _SECOND_TOPIC.match(sentence):
        return "second"
    if _PREAMBLE.match(sentence):
        return "preamble"
    return "reason"


def _turn_reason(text: str, *, unknown_speaker: bool = False) -> tuple[list[str], list[str]]:
    """(reason sentences, preamble sentences) of one turn, stopping at a second topic.

    With `unknown_speaker` (no speaker labels), the agent's scripted lines are dropped too.
    """
    reason: list[str] = []
    preamble: list[str] = []
    for sentence in split_sentences(text):
        if unknown_speaker and _AGENT_SCRIPT.search(sentence):
            continue
        kind = sentence_kind(sentence)
        if kind == "second" and reason:
            break
        if kind in ("reason", "second"):
            reason.append(sentence.strip())
        elif kind == "preamble":
            preamble.append(sentence.strip())
    return reason, preamble


def _with_customer_guessed(turns: list[Turn]) -> list[Turn]:
    """Relabel diarised speakers ("Speaker 1", "B"): the first is the agent, the next the customer.

    Transcripts with known speaker names are returned as they are.
    """
    speakers = list(dict.fromkeys(t.speaker.strip() for t in turns))
    if len(speakers) < 2 or not all(_GENERIC_SPEAKER.match(s) for s in speakers):
        return turns
    roles = {speakers[0]: "agent", speakers[1]: "customer"}
    return [Turn(roles.get(t.speaker.strip(), t.speaker), t.text) for t in turns]


# A note-taker's summary adds a second matter after the first: "Spurgte også om ...",
# "I tillegg spørsmål om ...", "Also asked about ...". The call's reason is the first matter.
_ASKED = r"(?:spurgte|spurte|nævnte|nevnte|ville|ønskede|ønsket|bad|asked|mentioned|wanted|raised)"
_ALSO = r"(?:også|og|samtidig|desuden|dessuten|derudover|also|too|in addition)"
_ALSO_ASKED = re.compile(
    rf"^\W*(?:(?:kunden?|kd\.?|customer|caller|cust\.?)\s+)?(?:{_ASKED}\s+{_ALSO}|{_ALSO}\s+{_ASKED})\b"
    r"|^\W*(?:desuden|derudover|herudover|dessuten|i tillegg|i tilgift|additionally|in addition)\b"
    rf"|^\W*{_ASKED}\b.*\btoo\W*$",
    re.IGNORECASE,
)
_MIN_PRIMARY_WORDS = 2


def primary_reason(summary: str) -> str:
    """The summary up to the second matter it adds, if any ("Spurgte også om ...").

    >>> primary_reason("Faktura ikke modtaget, sendt igen. Spurgte også om flytning.")
    'Faktura ikke modtaget, sendt igen.'
    """
    sentences = split_sentences(summary)
    for i in range(1, len(sentences)):
        kept = " ".join(sentences[:i])
        if _ALSO_ASKED.search(sentences[i]) and len(kept.split()) >= _MIN_PRIMARY_WORDS:
            return kept
    return summary


def customer_reason_text(transcript: str | None) -> str:
    """Return the sentences in which the customer says why they call.

    The customer's turns are read in order until the agent asks whether there is anything else.
    A turn that answers the agent's identity question is skipped, and in every other turn the
    greetings, acknowledgements, self-introductions, identification, closings and sign-offs are
    dropped sentence by sentence. The first turn with a reason left is the reason; when it is
    shorter than five words the next such turn is added. A second topic ("Og så en ting mere,
    ...") belongs to another reason and is not included. Apologies and announcements ("jeg har
    et spørgsmål") are used only when the caller says nothing else.
    """
    turns = _with_customer_guessed(parse_transcript(transcript))
    customer_known = any(t.is_customer for t in turns)
    picked: list[str] = []
    preambles: list[str] = []
    previous_agent = ""
    for turn in turns:
        if customer_known and not turn.is_customer:
            previous_agent = turn.text
            if picked and _ASKS_ANYTHING_ELSE.search(turn.text):
                break
            continue
        if customer_known and _ASKS_IDENTITY.search(previous_agent):
            previous_agent = ""
            continue
        previous_agent = ""
        reason, preamble = _turn_reason(turn.text, unknown_speaker=not customer_known)
        preambles.extend(preamble)
        picked.extend(reason)
        if len(_WORD.findall(" ".join(picked))) >= _MIN_WORDS:
            break
    if not picked:
        picked = preambles
    if not picked:  # nothing but small talk: the customer's words that are not bare greetings
        picked = [
            t.text
            for t in turns
            if (t.is_customer or not customer_known) and not _NOT_A_REASON.match(t.text)
        ][:1]
    return " ".join(picked).strip()


# The label a phone system's note puts before the caller's menu choice, in the languages served.
_MENU_CHOICE = re.compile(
    r"\b(?:IVR(?:[ -]?(?:option|choice|menu|valg))?|(?:tale|tele)men[uy]"
    r"|men[uy] ?(?:valg|choice|option)|talevalg|valgt menupunkt|menupunkt|selected option)"
    r"\s*:\s*(?P<choice>[^\n]+?)[.\s]*$",
    re.IGNORECASE,
)


def menu_choice(note: str | None) -> str | None:
    """The menu choice named in an unanswered call's note, or None when it names none.

    >>> menu_choice("Ubesvart anrop, la på i kø etter 8 min. Menyvalg: Faktura ikke mottatt.")
    'Faktura ikke mottatt'
    """
    if not note:
        return None
    found = _MENU_CHOICE.search(note.strip())
    choice = found.group("choice").strip(" .") if found else ""
    return choice if any(c.isalnum() for c in choice) else None


def add_reason_text(calls: pl.DataFrame) -> pl.DataFrame:
    """Add `customer_text`, `reason_text` and `text_source` to calls.

    `text_source` says which text was used: `summary` (preferred; up to a second matter it
    adds, see `primary_reason`), `transcript` (the customer's turns), or `menu` (an
    unanswered call's menu choice, from its note; a note without one is used as `summary`).
    """
    customer = [customer_reason_text(t) for t in calls["transcript"].to_list()]
    with_customer = calls.with_columns(pl.Series("customer_text", customer, dtype=pl.String))
    notes = calls["summary"].to_list()
    if "answered" in calls.columns:
        unanswered = calls["answered"].fill_null(True).not_().to_list()
        menu = [menu_choice(n) if u else None for n, u in zip(notes, unanswered, strict=True)]
    else:
        menu = [None] * calls.height
    primary = [primary_reason(n) if n else n for n in notes]
    with_customer = with_customer.with_columns(
        pl.Series("_menu", menu, dtype=pl.String), pl.Series("_primary", primary, dtype=pl.String)
    )
    summary = pl.col("summary").str.strip_chars()
    has_summary = summary.is_not_null() & (summary.str.len_chars() > 0)
    has_menu = pl.col("_menu").is_not_null()
    return (
        with_customer.with_columns(
            pl.when(has_menu)
            .then(pl.col("_menu"))
            .when(has_summary)
            .then(pl.col("_primary").str.strip_chars())
            .otherwise(pl.col("customer_text"))
            .alias("reason_text"),
            pl.when(has_menu)
            .then(pl.lit("menu"))
            .when(has_summary)
            .then(pl.lit("summary"))
            .otherwise(pl.lit("transcript"))
            .alias("text_source"),
        )
        .drop("_menu", "_primary")
        .with_columns(
            pl.when(pl.col("customer_text").str.len_chars() == 0)
            .then(None)
            .otherwise(pl.col("customer_text"))
            .alias("customer_text"),
            pl.col("reason_text").fill_null(""),
        )
    )
