import functools
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from contact_reasons.errors import InputError
from contact_reasons.faq_units import (
    check_sources,
    page_documents,
    parse_date,
    read_faq_csv,
    read_faq_folder,
    read_faq_sitemap,
    read_faq_units,
    units_as_of,
)
from contact_reasons.storage import Database

TOPICS = [
    ("Hvordan skifter jeg adresse?", "Du skifter adresse på Min Side under Profil."),
    ("Hvordan opsiger jeg mit abonnement?", "Du opsiger under Mine aftaler med MitID."),
    ("Hvor er min pakke?", "Følg pakken med linket i din ordrebekræftelse."),
    ("Hvordan fornyer jeg min recept?", "Log på sundhed.dk og vælg Receptfornyelse."),
    ("Hvordan melder jeg en skade?", "Logg inn med BankID og velg Meld skade."),
]


def _site(root: Path, pages: int) -> dict[str, str]:
    """A generated FAQ site: HTML pages with boilerplate, a Markdown page, and a sitemap."""
    lastmods = {}
    for i in range(pages):
        title, answer = TOPICS[i % len(TOPICS)]
        day = 1 + i % 9
        body = (
            f"<html><head><title>{title} | Firma</title>"
            f'<meta property="article:modified_time" content="2026-01-0{day}T10:00:00Z">'
            "</head><body><header>Log på</header>"
            "<nav><ul><li>Privat</li><li>Erhverv</li></ul></nav>"
            f"<main><h1>{title} ({i})</h1><p>{answer}</p>"
            f"<h2>Hvad koster det?</h2><p>Det er gratis, side {i}.</p>"
            "<h2>Åbningstider</h2><table><tr><td>Mandag</td><td>8-16</td></tr></table>"
            "</main><footer>© Firma A/S</footer></body></html>"
        )
        (root / f"side-{i}.html").write_text(body, encoding="utf-8")
        lastmods[f"side-{i}.html"] = f"2026-10-{1 + i % 28:02d}"
    (root / "guide.md").write_text(
        "# Hvordan læser jeg min måler?\n\nAflæs tallet uden decimaler.\n\n"
        "## Har jeg tastet forkert?\n\nRet det på Min Side i 14 dage.\n\n"
        "Opdateret: 5. oktober 2026\n",
        encoding="utf-8",
    )
    lastmods["guide.md"] = "2026-11-20"
    urls = "".join(
        f"<url><loc>{{base}}/{name}</loc><lastmod>{day}</lastmod></url>"
        for name, day in lastmods.items()
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        encoding="utf-8",
    )
    return lastmods


@pytest.fixture
def faq_site(tmp_path: Path):
    """A local web server on 127.0.0.1 (a free port) serving a generated 25-page FAQ site."""
    root = tmp_path / "site"
    root.mkdir()
    lastmods = _site(root, pages=24)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sitemap = root / "sitemap.xml"
    sitemap.write_text(sitemap.read_text(encoding="utf-8").replace("{base}", base), "utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, lastmods
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_website_is_read_through_its_sitemap_and_a_second_read_changes_nothing(
    faq_site, tmp_path: Path, monkeypatch
):
    base, lastmods = faq_site
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    units = read_faq_units([f"{base}/sitemap.xml"])
    assert units["url"].n_unique() == len(lastmods) == 25
    page = units.filter(pl.col("url") == f"{base}/side-2.html").sort("position")
    assert page["question"].to_list() == [
        "Hvor er min pakke? (2)",
        "Hvad koster det?",
        "Åbningstider",
    ]
    assert page["answer"][0] == "Følg pakken med linket i din ordrebekræftelse."
    assert page["answer"][2] == "Mandag – 8-16"
    assert not units["answer"].str.contains("Firma A/S|Erhverv|Privat").any()
    assert set(page["page_title"]) == {"Hvor er min pakke? (2)"}
    # The sitemap's lastmod dates a page without an "Updated" line (before its meta date);
    # the page's own line wins over both.
    assert page["page_date"][0] == date(2026, 10, 3)
    assert set(page["page_date_source"]) == {"lastmod"}
    guide = units.filter(pl.col("url") == f"{base}/guide.md")
    assert guide["question"].to_list() == [
        "Hvordan læser jeg min måler?",
        "Har jeg tastet forkert?",
    ]
    assert set(guide["page_date"]) == {date(2026, 10, 5)}
    assert set(guide["page_date_source"]) == {"text"}
    assert set(page["language"]) == {"da"}
    norwegian = units.filter((pl.col("url") == f"{base}/side-4.html") & (pl.col("position") == 0))
    assert norwegian["language"].to_list() == ["nb"]

    db_path = tmp_path / "faq.duckdb"
    with Database(db_path) as db:
        first = db.sync_faq_units(units)
        stored = db.table("faq_units").sort("unit_id")
    again = read_faq_units([base])  # the site's address: its /sitemap.xml is read
    with Database(db_path) as db:
        second = db.sync_faq_units(again)
        after = db.table("faq_units").sort("unit_id")
    assert stored.height == units.height
    assert after.equals(stored)  # same rows, same timestamps: nothing changed
    assert second.sort("unit_id")["first_read_at"].equals(first.sort("unit_id")["first_read_at"])


def test_with_faq_redact_pages_are_redacted_before_they_are_stored_and_rereading_changes_nothing(
    tmp_path: Path,
):
    # `faq.redact`: a source may name a person and their direct line (an internal knowledge
    # base); the company's own number then reads [PHONE]. Off by default: pages as written.
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "kontakt.md").write_text(
        "# Kontakt Bjarne Solberg\n\nOpdateret 5. oktober 2026\n\n"
        "## Hvem svarer på klager?\n\nSkriv til bjarne.solberg@example.dk eller ring "
        "21 34 56 78.\n\n## Hvornår har I åbent?\n\nMandag til fredag 8-16.\n",
        "utf-8",
    )
    csv_file = tmp_path / "faq.csv"
    csv_file.write_text(
        "url,question,answer\nhttps://x.dk/kort,Hvordan spærrer jeg mit kort?,"
        "Ring 70 20 30 40 døgnet rundt.\n",
        "utf-8",
    )
    as_written = read_faq_units([folder, csv_file])
    assert "Ring 70 20 30 40 døgnet rundt." in as_written["answer"].to_list()
    assert "Kontakt Bjarne Solberg" in as_written["page_title"].to_list()
    units = read_faq_units([folder, csv_file], redact=True)
    assert units["unit_id"].to_list() == as_written["unit_id"].to_list()  # no name in a question
    text = " ".join(units["page_title"].to_list() + units["question"].to_list())
    text += " " + " ".join(units["answer"].to_list())
    for secret in ("Solberg", "bjarne.solberg@example.dk", "21 34 56 78", "70 20 30 40"):
        assert secret not in text, secret
    assert "Kontakt [NAME]" in units["page_title"].to_list()
    assert "Skriv til [EMAIL] eller ring [PHONE]." in units["answer"].to_list()
    assert "Ring [PHONE] døgnet rundt." in units["answer"].to_list()
    assert date(2026, 10, 5) in units["page_date"].to_list()  # read before redaction
    assert "Solberg" not in " ".join(page_documents(units)["title"].to_list())
    db_path = tmp_path / "faq.duckdb"
    with Database(db_path) as db:
        db.sync_faq_units(units)
        stored = db.table("faq_units").sort("unit_id")
    with Database(db_path) as db:
        db.sync_faq_units(read_faq_units([folder, csv_file], redact=True))
        after = db.table("faq_units").sort("unit_id")
    assert after.equals(stored)  # same rows, same timestamps: nothing changed


def test_a_changed_page_updates_its_units_and_keeps_when_it_was_first_read(tmp_path: Path):
    folder = tmp_path / "faq"
    folder.mkdir()
    page = folder / "pakke.md"
    page.write_text("# Hvor er min pakke?\n\nSe linket.\n\n## Pakkeshop\n\nHent den.\n", "utf-8")
    db_path = tmp_path / "u.duckdb"
    with Database(db_path) as db:
        before = db.sync_faq_units(read_faq_folder([folder]))
    page.write_text("# Hvor er min pakke?\n\nSe linket i mailen.\n", "utf-8")
    with Database(db_path) as db:
        after = db.sync_faq_units(read_faq_folder([folder]))
        stored = db.table("faq_units")
    assert stored.height == 1  # the removed section's unit is gone
    assert stored["answer"][0] == "Se linket i mailen."
    assert stored["first_read_at"][0] == before["first_read_at"][0]
    assert stored["changed_at"][0] > stored["first_read_at"][0]
    assert after["unit_id"][0] == before["unit_id"][0]


def test_markdown_and_html_folder(tmp_path: Path):
    (tmp_path / "a.md").write_text(
        "# Hvordan flytter jeg?\n\nDu flytter **sådan** her.\n\n## Hvad koster det?\n\n"
        "- Intet\n- Slet intet\n\nOppdatert: 14. desember 2022\n",
        "utf-8",
    )
    (tmp_path / "b.html").write_text(
        '<html><head><title>T</title><meta name="date" content="2025-03-01"></head><body>'
        "<nav>Menu Forside</nav><h1>Åbningstider i julen</h1><p>Vi har åbent 27.-30. december.</p>"
        "<ul><li><p>Lukket 24.</p></li></ul><footer>© Firma</footer></body></html>",
        "utf-8",
    )
    units = read_faq_folder([tmp_path])
    a = units.filter(pl.col("url").str.ends_with("a.md"))
    assert a["question"].to_list() == ["Hvordan flytter jeg?", "Hvad koster det?"]
    assert a["answer"].to_list() == ["Du flytter sådan her.", "Intet\nSlet intet"]
    assert set(a["page_date"]) == {date(2022, 12, 14)}
    b = units.filter(pl.col("url").str.ends_with("b.html"))
    assert b["answer"].to_list() == ["Vi har åbent 27.-30. december.\nLukket 24."]
    assert b["page_date"].to_list() == [date(2025, 3, 1)]
    assert b["page_date_source"].to_list() == ["meta"]
    docs = page_documents(units)
    assert docs["title"].to_list() == ["Hvordan flytter jeg?", "Åbningstider i julen"]
    assert "Menu" not in docs["text"][1]


def test_csv_reader_groups_units_by_page_and_names_bad_rows(tmp_path: Path):
    good = tmp_path / "faq.csv"
    good.write_text(
        "url,question,answer,date\n"
        "https://x.dk/pakke,Hvor er min pakke?,Følg den med linket.,2026-10-05\n"
        "https://x.dk/pakke,Kan jeg ændre adressen?,Ja indtil den er sendt.,\n"
        'https://x.dk/kort,"Hvordan spærrer jeg mit kort?","Ring 70 20 30 40, døgnet rundt.",\n',
        "utf-8",
    )
    units = read_faq_csv(good)
    assert units["url"].to_list() == ["https://x.dk/pakke"] * 2 + ["https://x.dk/kort"]
    assert units["page_title"].to_list()[:2] == ["Hvor er min pakke?"] * 2
    assert units["page_date"].to_list()[:2] == [date(2026, 10, 5)] * 2
    assert units["page_date"][2] is None
    assert units["position"].to_list() == [0, 1, 0]
    assert read_faq_units([good]).equals(units)

    lacking = tmp_path / "lacking.csv"
    lacking.write_text("url,question\nhttps://x.dk,Hvad?\n", "utf-8")
    with pytest.raises(InputError, match="lacks column.*answer"):
        read_faq_csv(lacking)
    # Rows are numbered as in call files (`ingest`): the header is row 0, data rows count
    # from 1, a blank line is no row and a quoted line break starts none.
    empty = tmp_path / "empty.csv"
    empty.write_text("url,question,answer\nhttps://x.dk,Hvad?,\n", "utf-8")
    with pytest.raises(InputError, match=r"empty.csv row 1: column 'answer' is empty"):
        read_faq_csv(empty)
    bad_date = tmp_path / "date.csv"
    bad_date.write_text(
        "url,question,answer,date\n"
        'https://x.dk,Hvad?,"Sådan.\nOg sådan.",2026-10-05\n'
        "\n"
        "https://x.dk,Hvornår?,Snart.,snart\n",
        "utf-8",
    )
    with pytest.raises(InputError, match=r"date.csv row 2: column 'date' = 'snart' is not a date"):
        read_faq_csv(bad_date)


def test_unreadable_sources_are_named(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        read_faq_units([tmp_path / "nope"])
    with pytest.raises(InputError, match="not a readable sitemap"):
        read_faq_sitemap("http://127.0.0.1:9/sitemap.xml", timeout=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5. oktober 2026", date(2026, 10, 5)),
        ("marts 2021", date(2021, 3, 1)),
        ("14. desember 2022", date(2022, 12, 14)),
        ("2026-10-05T10:00:00+02:00", date(2026, 10, 5)),
        ("05.10.2026", date(2026, 10, 5)),
        ("October 5, 2026", date(2026, 10, 5)),
        ("snart", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_pages_without_a_date_take_the_day_they_were_first_read(tmp_path: Path):
    (tmp_path / "a.md").write_text("# Hvad?\n\nSådan.\n", "utf-8")
    with Database(tmp_path / "d.duckdb") as db:
        units = db.sync_faq_units(read_faq_folder([tmp_path]))
    first = {units["url"][0]: units["first_read_at"][0]}
    dated = units_as_of(units, first)
    assert dated["page_date"][0] == units["first_read_at"][0].date()
    assert dated["page_date_source"][0] == "first_read"


def test_a_bad_faq_csv_is_refused_before_the_run_reads_any_call(tmp_path):
    # `run --faq faq.csv` with an empty answer on row 1 failed only once the calls were read,
    # redacted, embedded and clustered: minutes into a first run of a big export.
    from contact_reasons.cli import main

    bad = tmp_path / "faq.csv"
    bad.write_text("url,question,answer\nhttps://x.dk/a,Hvad koster det?,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"faq\.csv row 1: column 'answer' is empty"):
        check_sources([bad])
    calls = tmp_path / "calls.csv"
    calls.write_text("call_id,started_at,summary\n", encoding="utf-8")
    db = tmp_path / "cr.duckdb"
    assert main(["run", "--input", str(calls), "--faq", str(bad), "--db", str(db)]) == 2
    assert not db.exists()  # refused before the flow opened (and created) the database
