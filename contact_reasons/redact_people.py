"""Finders for who a person is: names, birth dates and street addresses.

Used by `contact_reasons.redact`, which wires them into its ordered, non-overlapping finders and
replaces what they find by `[NAME]`, `[DATE_OF_BIRTH]` and `[ADDRESS]`.

**Names** are found two ways:

1. *Where a name is introduced*: "jeg hedder", "mit navn er", "navnet er", "jeg heter", "navnet
   mitt er", "my name is", "kunden X", "Kunden hedder X", titles ("fru", "hr.", "Mr"), the
   agent's "du taler med X", "du snakker med X", "you're speaking with X", "det er X fra ...",
   "this is X at ...", "X her", "X here", greetings ("Hej X,") and sign-offs ("Mvh X"). The
   capitalised words that follow (or name-list words in any case) are the name, known or not.
2. *Elsewhere*, capitalised words are looked up in first- and last-name lists for Danish,
   Norwegian and English from the `faker` package (MIT licence; providers `da_DK`, `no_NO`,
   `en_US`, `en_GB`), loaded once on first use. Two or more name words in a row are a full name
   and go, unless none of them is more than an ordinary word ("Good Morning"); a listed first
   name and the capitalised word after it are a full name too ("Mette Kowalski"). A lone name
   word goes, unless it is also an ordinary word: such a word ("Per", "Else", "Holm", "Lie")
   goes only inside a sentence or before a verb ("Holm ønsker svar"), and a few words ("Good",
   "Page", "Strøm", months and weekdays) go alone only before a verb such as "vil" or "ringer".
   Towns and countries (faker's Danish towns and countries, the largest Norwegian towns) do not
   go alone unless they are also first names ("Flemming") or a verb follows.
**Birth dates** are dates after a cue ("født", "født den", "fødd", "født i", "born", "born on",
"date of birth", "fødselsdato", "fødselsdag"; up to 60 characters after the cue when the date
carries a year, so that "Hvad er din fødselsdato? Kunde: Jens, 13.12.42" is caught too), in
numeric (13.12.1942, 13/12-42, 1942-12-13, 131242) and written-out ("13. december 1942",
"5. august 1988", "December 13, 1942") formats, and any full date whose year lies before
`_LATEST_BIRTH_YEAR`: an appointment or a delivery is not dated 1988. Other dates stay.

**Street addresses** are a street name with a Danish or Norwegian street suffix ("-gade",
"-vej", "-gata", "-veien", "Allé", ... from faker's address providers and our own) followed by a
house number, with an optional letter, floor and side ("Nørregade 12, 2. tv.", "Åboulevarden 3,
st. th.") and an attached postcode and town ("Fjordgata 88, 6737 Køge"). Suffixes that also end
nouns ("-ringen", "-lia") count only after a listed name or place ("Hansenringen 5", not
"Leveringen 3"). A street without a known suffix is an address when a postcode and a known town
follow ("Nyhavn 17, 1051 København K"). A street or town named without a number stays.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from contact_reasons import stopwords

# --- word lists --------------------------------------------------------------------------------

#: Name words that are ordinary words when capitalised on their own: never a lone name.
_NEVER_ALONE = frozenset(
    """
    good page power house case price young day summer winter autumn spring long short
    white green black grey gray snow stone park key glass banks walls read smart holder
    booker weeks mora bill will may june april august march christmas easter sunday monday
    tuesday wednesday thursday friday saturday january february september october november
    december strøm mark rose hope grace faith joy dawn ray chance hall hill wood woods field
    fields lane street church bridge north south east west little king queen rich love star
    sky lake river bay power sterling cash money gold silver paris london sydney florence
    austin dallas houston phoenix jersey york
    """.split()
)
#: Name words that are common words: alone at a sentence start they need context.
_ORDINARY = frozenset(
    """
    per else dag tage tom jo bo andre lang don hans max sten ho jan ane bent tone lie berg
    dahl strand holm moen bakken haugen lund dam skov bach bro sol mai juni juli mars as
    frank chase art guy pat sue bob jack earl sky rich will tim kim ben dan eli ella ida ulla
    vera viola iris lily ruby rosa hedda ellen karen lea lone mona nina olga otto ole les
    line brown
    """.split()
)
_MONTHS = {
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "no": "januar februar mars april mai juni juli august september oktober november desember",
    "en": "january february march april may june july august september october november december",
}
_MONTH_WORDS = sorted(
    {w for line in _MONTHS.values() for w in line.split()}
    | {w[:3] for line in _MONTHS.values() for w in line.split()}
    | {"sept", "okt", "des"},
    key=len,
    reverse=True,
)
_MONTH = "(?:" + "|".join(_MONTH_WORDS) + r")\.?"


@dataclass(frozen=True)
class Lexicon:
    """Name and place words, loaded from faker on first use."""

    first: frozenset[str]
    last: frozenset[str]
    places: frozenset[str]
    street_suffixes: tuple[str, ...]

    def is_name(self, word: str) -> bool:
        """Whether a word (any case) is a first or last name in the lists."""
        key = _title(word)
        return key in self.first or key in self.last

    def is_first(self, word: str) -> bool:
        """Whether a word (any case) is a first name in the lists."""
        return _title(word) in self.first


def _title(word: str) -> str:
    return word[:1].upper() + word[1:].lower() if word.isupper() or word.islower() else word


@functools.cache
def lexicon() -> Lexicon:
    """The name, place and street-suffix lists (faker `da_DK`, `no_NO`, `en_US`, `en_GB`)."""
    from faker.providers.address.da_DK import Provider as AddressDa
    from faker.providers.address.no_NO import Provider as AddressNo
    from faker.providers.person.da_DK import Provider as PersonDa
    from faker.providers.person.en_GB import Provider as PersonGb
    from faker.providers.person.en_US import Provider as PersonUs
    from faker.providers.person.no_NO import Provider as PersonNo

    first: set[str] = set()
    last: set[str] = set()
    for provider in (PersonDa, PersonNo, PersonUs, PersonGb):
        first.update(str(n) for n in provider.first_names)
        last.update(str(n) for n in provider.last_names)
    # Names that are function words ("Else", "Per" stay names; "An", "As" do not).
    function_words = {w for w in stopwords.ALL if len(w) <= 3} - {"per", "bo", "jo", "ole", "dag"}
    first = {n for n in first if n.lower() not in function_words and len(n) > 1}
    last = {n for n in last if n.lower() not in function_words and len(n) > 1}
    places = {str(c) for c in AddressDa.cities} | set(AddressDa.countries)
    places |= set(AddressNo.countries) | {"Spania", "Føtex", "Netto", "Bilka", "Rema", "Kiwi"}
    # faker has no Norwegian towns; the largest, and Danish spellings faker lacks.
    places |= set(
        """
        Aarhus Oslo Bergen Trondheim Stavanger Drammen Fredrikstad Kristiansand Sandnes Tromsø
        Sarpsborg Skien Ålesund Sandefjord Haugesund Tønsberg Moss Porsgrunn Bodø Arendal Hamar
        Larvik Halden Lillehammer Molde Kongsberg Gjøvik Harstad Horten Jessheim Lørenskog
        Bærum Asker Lillestrøm Sandvika Hønefoss Elverum Steinkjer Narvik Alta Kristiansund
        Hammerfest Gardermoen
        """.split()
    )
    suffixes = {s.strip().lower() for s in AddressDa.street_suffixes}
    suffixes |= {s.lower() for s in AddressNo.street_suffixes if len(s) >= 4}
    suffixes |= set(
        """
        gade gaden vej vejen stræde strædet allé alle alléen allee plads pladsen torv torvet
        vænge vænget boulevard boulevarden kaj kajen park parken bakke bakken høj højen toft
        vang vangen sti stien gyde gyden have haven gata gate gaten vei veien veg vegen plass
        plassen brygge bryggen kaia tun tunet løkka åsen haugen
        """.split()
    )
    suffixes -= _RISKY_SUFFIXES
    return Lexicon(
        first=frozenset(first),
        last=frozenset(last),
        places=frozenset(places),
        street_suffixes=tuple(sorted(suffixes, key=len, reverse=True)),
    )


# --- names -------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_LOWER = "abcdefghijklmnopqrstuvwxyzæøåäöüéèáàíóúñç"
"""The lower-case letters of the languages read; any other letter starts a capitalised word."""
_UPPER = re.compile(rf"[^\W\d_{_LOWER}]")
_LOWER_FIRST = frozenset(_LOWER)

# Strong introducers: whatever name-like words follow are a name.
_INTRO_STRONG = re.compile(
    r"(?i)\b(?:"
    r"(?:jeg|eg|han|hun|ho|kunden|kunde|personen|vedkommende|manden|mannen|konen|kona|"
    r"sønnen|sønn(?:en)?|datteren|dattera|barnet|moren|mora|faren|far|mor|kontaktpersonen)"
    r"\s+(?:hedder|heter|hed|het)"
    r"|(?:mit|mitt|min|hans|hendes|hennes|kundens|dit|ditt)\s+(?:fulde\s+|fulle\s+)?navn\s+er"
    r"|navnet(?:\s+(?:mitt|hans|hennes|hendes|dit|ditt))?\s+(?:er|var)"
    r"|(?:my|his|her|the\s+customer'?s|customer'?s|caller'?s|your)\s+(?:full\s+)?name\s+(?:is|was)"
    r"|(?:my|his|her)\s+name'?s|i\s+am\s+called|i'?m\s+called"
    r"|navn\s*:|name\s*:|kundenavn\s*:?"
    r"|du\s+(?:taler|snakker|chatter|prater)\s+med|you'?re\s+(?:speaking|talking|chatting)\s+"
    r"(?:with|to)|you\s+are\s+(?:speaking|talking|chatting)\s+(?:with|to)"
    r"|(?:talte|talt|snakket|snakkede|snakka|spoke|spoken|talked|chatted)\s+(?:med|with|to)"
    r"|kunden|fru|frk\.?|hr\.|herr|mr\.?|mrs\.?|ms\.?|dr\.?"
    r"|mvh\.?|med\s+venlig\s+hilsen|venlig\s+hilsen|med\s+vennlig\s+hilsen|vennlig\s+hilsen|"
    r"hilsen|kind\s+regards|best\s+regards|warm\s+regards|regards|best\s+wishes|sincerely|vh"
    r")(?=[\s,:])[\s,:]*"
)
# Every word a strong introducer can begin with, as its whole run of letters ("sønnen" for
# "sønn(?:en)?", "youre" for "you'?re"). `_strong_introducers` tries the pattern only where such
# a word starts, which finds what `_INTRO_STRONG.finditer` finds, several times faster.
_INTRO_STRONG_FIRST = frozenset(
    """
    jeg eg han hun ho kunden kunde personen vedkommende manden mannen konen kona sønnen sønn
    datteren dattera barnet moren mora faren far mor kontaktpersonen mit mitt min hans hendes
    hennes kundens dit ditt navnet my his her the customer customers caller callers your i im
    navn name kundenavn du you youre talte talt snakket snakkede snakka spoke spoken talked
    chatted fru frk hr herr mr mrs ms dr mvh med venlig vennlig hilsen kind best warm regards
    sincerely vh
    """.split()
)
_LETTERS = re.compile(r"[^\W\d_]+")
# Letters whose case-insensitive matches `str.lower` does not reproduce (the Kelvin sign, the long
# s, a dotted capital I, ...): a text holding one is searched with the pattern itself.
_ODD_LETTER = re.compile(rf"[^\W\d_{_LOWER}{_LOWER.upper()}]")


def _strong_introducers(text: str) -> Iterator[re.Match[str]]:
    """`_INTRO_STRONG.finditer(text)`, trying the pattern only where one of its words starts."""
    if _ODD_LETTER.search(text):
        yield from _INTRO_STRONG.finditer(text)
        return
    searched_to = 0
    for word in _LETTERS.finditer(text):
        if word.start() < searched_to or word.group().lower() not in _INTRO_STRONG_FIRST:
            continue
        m = _INTRO_STRONG.match(text, word.start())
        if m is not None:
            searched_to = m.end()
            yield m


# Weak introducers: the word after is a name only when it is followed by a cue or a second
# capitalised word, or is a listed name.
_INTRO_WEAK = re.compile(
    r"(?i)(?:\b(?P<is>det\s+er|dette\s+er|this\s+is|it'?s|it\s+is)"
    r"|(?:^|(?<=[.!?:\n\"]))\s*(?:hej|hei|hi|hello|dear|kære|kjære|hallo|goddag|god\s+dag))"
    r"(?P<sep>[\s,]+)"
)
_AFTER_WEAK = re.compile(r"(?i)[\s,]+(?:fra|i|hos|from|at|with|her|here|speaking)\b")
_NAME_HERE = re.compile(
    r"(?i)(?<=[,.!?:\n\"])(\s*)([^\W\d_]+)\s+(?:her|here|speaking)(?=\s*[.,!]|\s*$)"
)
# A person does things: an ordinary-word name at a sentence start followed by one of these verbs is
# a name ("Holm ønsker svar", "Lie vil ha svar", "Will called back").
_PERSON_VERB = re.compile(
    r" (?:ønsker|ønsket|vil|ville|ringer|ringede|ringte|har|havde|hadde|skal|skulle|spør|"
    r"spørger|spurgte|spurte|mener|siger|sier|sa|sagde|oplyser|opplyser|oplyste|opplyste|"
    r"kommer|venter|beder|ber|bad|klager|klaget|klagede|betaler|betalte|wants|wanted|will|"
    r"called|calls|asked|asks|says|said|has|had|would|complained|paid|pays|is|was)\b"
)
# Verbs that make even an ordinary word a person at a sentence start ("Strøm vil have svar").
_STRONG_PERSON_VERB = re.compile(
    r" (?:ønsker|vil|ringer|ringede|ringte|spurgte|spurte|wants|called|asked)\b"
)
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday christmas easter".split()
)
_SENTENCE_END = re.compile(r"[.!?:\n\"{\[(]\s*$")
# A list item's first word starts a sentence too ("- Les av måleren", "2. Ring os").
_LIST_ITEM = re.compile(r"(?:^|\n)[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+$")


def _is_capitalised(word: str) -> bool:
    return bool(_UPPER.match(word)) and not (word.isupper() and len(word) > 1)


def _sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start]
    return (
        start == 0
        or bool(_SENTENCE_END.search(before))
        or text[:start].strip() == ""
        or bool(_LIST_ITEM.search(text[max(0, start - 8) : start]))
    )


def _name_run(
    text: str, start: int, lex: Lexicon, *, any_case: bool, limit: int = 4
) -> tuple[int, int] | None:
    """The name words from `start` on: capitalised or listed words joined by single spaces."""
    pos = start
    end = None
    for _ in range(limit):
        m = _WORD.match(text, pos)
        if m is None:
            break
        word = m.group()
        lower = word.lower()
        ok = (
            _is_capitalised(word) and lower not in _NEVER_ALONE and lower not in stopwords.ALL
        ) or (any_case and lex.is_name(word) and lower not in stopwords.ALL)
        if lex.is_name(word) and _is_capitalised(word):
            ok = True
        if not ok or (_title(word) in lex.places and not lex.is_name(word) and end is None):
            break
        end = m.end()
        if text[end : end + 1] == " " and end + 1 < len(text):
            pos = end + 1
        else:
            break
    return None if end is None else (start, end)


def _introduced(text: str, lex: Lexicon) -> Iterator[tuple[int, int]]:
    for m in _strong_introducers(text):
        run = _name_run(text, m.end(), lex, any_case=True)
        if run is not None:
            yield run
    for m in _INTRO_WEAK.finditer(text):
        run = _name_run(text, m.end(), lex, any_case=False, limit=3)
        if run is None:
            continue
        words = _WORD.findall(text[run[0] : run[1]])
        # "det er Ahmed Khan", "this is Nora at NordAir", "Hej Jens,"; not "God dag, NordTel,".
        if (
            any(lex.is_name(w) for w in words)
            or (m.group("is") and (len(words) >= 2 or _AFTER_WEAK.match(text, run[1])))
            or (
                not m.group("is")
                and "," not in m.group("sep")
                and len(words) == 1
                and text[run[1] : run[1] + 1] in (",", ".", "!")
            )
        ):
            yield run
    for m in _NAME_HERE.finditer(text):
        word = m.group(2)
        if _is_capitalised(word) and word.lower() not in stopwords.ALL:
            if word.lower() not in _NEVER_ALONE and _title(word) not in lex.places:
                yield m.span(2)


def _listed(text: str, lex: Lexicon) -> Iterator[tuple[int, int]]:
    # Capitalised or all upper-case words: those whose first letter `_UPPER` takes.
    words = [m for m in _WORD.finditer(text) if text[m.start()] not in _LOWER_FIRST]
    i = 0
    while i < len(words):
        # A run: capitalised words separated by one space.
        j = i
        while j + 1 < len(words) and text[words[j].end() : words[j + 1].start()] == " ":
            j += 1
        run = words[i : j + 1]
        i = j + 1
        yield from _names_in_run(text, run, lex)


def _base(word: str, lex: Lexicon) -> str:
    # Genitive: "Hansens", "Jens'", "Smith's".
    for tail in ("'s", "’s", "s"):
        if word.endswith(tail) and not lex.is_name(word) and lex.is_name(word[: -len(tail)]):
            return word[: -len(tail)]
    return word


def _names_in_run(text: str, run: list[re.Match[str]], lex: Lexicon) -> Iterator[tuple[int, int]]:
    bases = [_base(m.group(), lex) for m in run]
    named = [lex.is_name(b) and not b.isupper() for b in bases]
    k = 0
    while k < len(run):
        if not named[k]:
            k += 1
            continue
        # Extend over neighbouring words: listed names, or an unlisted capitalised word next to a
        # listed first name ("Mette Kowalski").
        lo = hi = k
        while hi + 1 < len(run) and named[hi + 1]:
            hi += 1
        if lo == hi and hi + 1 < len(run) and lex.is_first(bases[hi]):
            nxt = bases[hi + 1].lower()
            if (
                nxt not in stopwords.ALL
                and nxt not in _NEVER_ALONE
                and bases[hi + 1] not in lex.places
            ):
                hi += 1
        if (
            lo == hi
            and lo > 0
            and _title(bases[lo]) in lex.last
            and not lex.is_first(bases[lo])
            and bases[lo].lower() not in _NEVER_ALONE
            and bases[lo].lower() not in _ORDINARY
        ):
            prev = bases[lo - 1]
            if (
                prev.lower() not in stopwords.ALL
                and prev.lower() not in _NEVER_ALONE
                and prev not in lex.places
                and not _sentence_start(text, run[lo - 1].start())
            ):
                lo -= 1
        if hi > lo:
            words = [bases[x] for x in range(lo, hi + 1)]
            # "Hans Strøm": a listed first name makes the run a name; "Good Morning" is none.
            if any(
                w.lower() not in _NEVER_ALONE
                and (w.lower() not in stopwords.ALL or lex.is_first(w))
                for w in words
            ):
                yield run[lo].start(), run[hi].end()
        else:
            word = bases[lo]
            lower = word.lower()
            # A word as written counts too: "Les" (Norwegian "read") is no genitive of "Le".
            written = run[lo].group().lower()
            strong_verb = _STRONG_PERSON_VERB.match(text, run[lo].end()) is not None
            alone_ok = (
                (lower not in _NEVER_ALONE or (strong_verb and lower not in _CALENDAR))
                and (word not in lex.places or lex.is_first(word) or strong_verb)
                and (
                    lower not in _ORDINARY
                    and written not in _ORDINARY
                    and lower not in stopwords.ALL
                    or not _sentence_start(text, run[lo].start())
                    or _PERSON_VERB.match(text, run[lo].end()) is not None
                )
                and not _after_number(text, run[lo].start())
            )
            if alone_ok:
                yield run[lo].start(), run[lo].end()
        k = hi + 1


def _after_number(text: str, start: int) -> bool:
    # "2 Jan", "13. May": a month after a day number, not a name.
    return bool(re.search(r"(?<!\d)\d{1,2}\.? ?$", text[max(0, start - 5) : start]))


def find_names(text: str) -> Iterator[tuple[int, int]]:
    """Spans of person names in `text` (see the module docs); they may overlap each other."""
    lex = lexicon()
    yield from _introduced(text, lex)
    yield from _listed(text, lex)


# --- birth dates -------------------------------------------------------------------------------

_LATEST_BIRTH_YEAR = 2010
"""A full date before this year is a birth date even without a cue: appointments, deliveries
and due dates in a contact centre's calls lie in the present."""

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_NUM_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR4 = r"(?:19\d\d|20\d\d)"
_DATE = (
    r"(?:"
    rf"{_DAY}\.?\s?(?:de\s+)?{_MONTH}(?:,?\s+{_YEAR4}|\s+'?\d\d(?!\d))?"  # 13. december 1942
    rf"|{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?(?:,?\s+{_YEAR4})?"  # December 13, 1942
    rf"|(?:the\s+)?{_DAY}(?:st|nd|rd|th)\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR4})?"
    rf"|{_DAY}[./-]{_NUM_MONTH}[./-](?:{_YEAR4}|\d\d)(?!\d)"  # 13.12.1942, 13/12-42
    rf"|{_DAY}/{_NUM_MONTH}(?:\s+{_YEAR4})?"  # 13/12
    rf"|{_YEAR4}-{_NUM_MONTH}-{_DAY}(?!\d)"  # 1942-12-13
    r"|\d{6}(?!\d)|\d{8}(?!\d)"  # 131242, 13121942
    r")"
)
_DOB_CUE = (
    r"(?i)(?<![\w])(?:født|fødd|føtt|born|date\s+of\s+birth|d\.?o\.?b\.?|birth\s+date|"
    r"birthdate|birthday|fødselsdato(?:en)?|fødselsdag(?:en)?|fødselsdatoen|f\.)"
)
_DOB_FILL = r"(?:[\s:,=-]*(?:er|is|was|var|den|d\.|the|on|i|in|min|mit|mitt|my|:)\b){0,3}[\s:,=-]*"
_DOB_NEAR = re.compile(
    rf"{_DOB_CUE}{_DOB_FILL}({_DATE}|{_MONTH}\s+{_YEAR4}|{_YEAR4})(?![\w])"  # "i august 1988"
)
# A date with a year up to 60 characters after the cue, across a turn ("fødselsdato? ... 13.12.42").
_DOB_FAR = re.compile(
    rf"{_DOB_CUE}[^\d\n]{{0,60}}\n?[^\d\n]{{0,40}}?"
    rf"({_DAY}[./-]{_NUM_MONTH}[./-](?:{_YEAR4}|\d\d)(?!\d)|{_DAY}\.?\s?{_MONTH},?\s+{_YEAR4}"
    rf"|{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR4}|{_YEAR4}-{_NUM_MONTH}-{_DAY}(?!\d))"
)
_FULL_DATE = re.compile(
    rf"(?i)(?<![\w.,/-])(?:{_DAY}\.?\s?(?:de\s+)?{_MONTH},?\s+({_YEAR4})"
    rf"|{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?,?\s+({_YEAR4})"
    rf"|{_DAY}[./-]{_NUM_MONTH}[./-]({_YEAR4})|({_YEAR4})-{_NUM_MONTH}-{_DAY})(?![\w]|[.,/-]\d)"
)


def find_birth_dates(text: str) -> Iterator[tuple[int, int]]:
    """Spans of birth dates in `text` (see the module docs)."""
    for pattern in (_DOB_NEAR, _DOB_FAR):
        for m in pattern.finditer(text):
            yield m.span(1)
    for m in _FULL_DATE.finditer(text):
        year = next(g for g in m.groups() if g)
        if int(year) < _LATEST_BIRTH_YEAR:
            yield m.span()


# --- street addresses --------------------------------------------------------------------------


_SEPARATE_SUFFIX = (
    "gade|vej|gate|gata|vei|veg|allé|plads|plass|torv|stræde|boulevard|vænge|park|kaj|brygge"
)
# Street suffixes that also end ordinary nouns ("Leveringen", "Italia"): such a street counts
# only when what comes before the suffix is a listed name or place ("Hansenringen", "Bergelia").
_RISKY_SUFFIXES = frozenset(
    {"ringen", "stykket", "toppen", "svingen", "marka", "engen", "lia", "roa", "røa", "eggen"}
)


@functools.cache
def _address_pattern(risky: bool = False) -> re.Pattern[str]:
    if risky:
        suffix = "|".join(sorted(_RISKY_SUFFIXES, key=len, reverse=True))
        street = rf"(?P<stem>[A-ZÆØÅÄÖÜÉ][\w'-]*?)(?:{suffix})"
    else:
        suffix = "|".join(re.escape(s) for s in lexicon().street_suffixes)
        cap = r"[A-ZÆØÅÄÖÜÉ][\w'.-]*"
        street = (
            rf"(?:{cap}[ \t]+){{0,3}}"  # "H.C. Andersens", "Karl Johans"
            rf"(?:[A-ZÆØÅÄÖÜÉ][\w'-]*?(?:{suffix})"  # Nørregade, Fjordgata, Åboulevarden
            rf"|{cap}s?[ \t]+(?i:{_SEPARATE_SUFFIX}))"  # "Karl Johans gate", "Sankt Hans Torv"
        )
    number = r"\d{1,4}(?:(?:[A-Za-z]|[ \t][A-Z])(?![\w]))?(?:-\d{1,4})?"
    floor = (
        r"(?:,?[ \t]*(?:st|stuen|kl|kælder|\d{1,2}\.?[ \t]*(?:sal|etg|etage|etasje)?)\.?"
        r"(?:,?[ \t]*(?:th|tv|mf|t\.h|t\.v)\.?(?![\w]))?(?![\w]))?"
    )
    postcode = (
        r"(?:,?[ \t]*\d{4}[ \t]+[A-ZÆØÅ][\wæøå-]+"
        r"(?:[ \t]+[A-ZÆØÅ](?![\w])\.?|[ \t]+[A-ZÆØÅ][\wæøå]+)?)?"
    )
    return re.compile(
        rf"(?<![\w]){street}[ \t]+{number}(?![\d.,:]\d)(?![ \t]?(?:kr|%|minut|min|timer|dage|uger))"
        rf"{floor}{postcode}"
    )


# A street without a known suffix is still an address when a postcode and town follow the house
# number: "Nyhavn 17, 1051 København K", "Bryggen 5, 5003 Bergen".
_ADDRESS_BY_POSTCODE = re.compile(
    r"(?<![\w])(?:[A-ZÆØÅÄÖÜÉ][\w'.-]*[ \t]+){0,2}[A-ZÆØÅÄÖÜÉ][\w'.-]*[ \t]+\d{1,4}"
    r"(?:[A-Za-z](?![\w]))?,[ \t]*\d{4}[ \t]+(?P<town>[A-ZÆØÅ][\wæøå-]+)"
    r"(?:[ \t]+[A-ZÆØÅ](?![\w])\.?|[ \t]+[A-ZÆØÅ][\wæøå]+)?"
)


def find_addresses(text: str) -> Iterator[tuple[int, int]]:
    """Spans of street addresses in `text` (see the module docs)."""
    for m in _address_pattern().finditer(text):
        yield m.start(), m.end()
    lex = lexicon()
    for m in _address_pattern(risky=True).finditer(text):
        stem = m.group("stem")
        if lex.is_name(stem) or stem in lex.places or lex.is_name(stem.rstrip("s")):
            yield m.start(), m.end()
    places = lex.places
    for m in _ADDRESS_BY_POSTCODE.finditer(text):
        if m.group("town") in places:  # "Sag 12, 1234 Kroner" is no address
            yield m.start(), m.end()
