from pathlib import Path

import openpyxl
import pytest

from contact_reasons import report
from contact_reasons.cli import main
from contact_reasons.storage import Database
from tests.report_fixtures import LABELS, TOP_LABEL, build


@pytest.fixture(scope="module")
def report_db(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("report") / "r.duckdb")


def test_html_report_is_one_escaped_offline_file(report_db, tmp_path, capsys):
    out = tmp_path / "weekly.html"
    assert main(["report", "--db", str(report_db), "--format", "html", "--output", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert TOP_LABEL in page
    assert "Adresseændring &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "<script>alert(1)</script>" not in page
    assert '<script src="http' not in page
    assert "<link" not in page
    assert "Plotly.newPlot" in page
    for section in ("Top reasons", "Trend, last 12 weeks", "Alerts, last 4 weeks", "FAQ gaps"):
        assert f"<h2>{section}</h2>" in page
    assert "31 calls against" in page  # this week's alert on the new app reason, with evidence
    assert not list(tmp_path.glob("*.partial"))


def test_xlsx_report_has_one_sheet_per_table(report_db, tmp_path):
    out = tmp_path / "weekly.xlsx"
    assert main(["report", "--db", str(report_db), "--format", "xlsx", "--output", str(out)]) == 0
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["top reasons 2026-W47", "trend", "alerts", "faq gaps"]
    top = list(book["top reasons 2026-W47"].iter_rows(values_only=True))
    assert top[0][:3] == ("reason_id", "label", "calls")
    assert top[1][1] == TOP_LABEL
    alerts = list(book["alerts"].iter_rows(values_only=True))
    assert "evidence" in alerts[0]
    assert {row[alerts[0].index("kind")] for row in alerts[1:]} >= {"new", "rising", "falling"}
    trend = list(book["trend"].iter_rows(values_only=True))
    assert len(trend[0]) == 2 + 12


def test_file_formats_need_an_output(report_db, capsys):
    assert main(["report", "--db", str(report_db), "--format", "html"]) == 2
    assert "needs --output" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_output_file_is_written_for_csv_and_json_too(report_db, tmp_path, capsys, fmt):
    # --output was read for html/xlsx only: the table went to the terminal, no file was made.
    out = tmp_path / f"top.{fmt}"
    assert main(["report", "--db", str(report_db), "--format", fmt, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"-> {out}" in printed
    assert TOP_LABEL not in printed
    assert TOP_LABEL in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["report", "faq"])
@pytest.mark.parametrize("top", ["0", "-2", "x"])
def test_top_must_be_a_positive_number(report_db, capsys, command, top):
    # --top -2 printed no reason and '... N more reasons'; faq --top -1 left out the last gap.
    with pytest.raises(SystemExit) as exited:
        main([command, "--db", str(report_db), "--top", top])
    assert exited.value.code == 2
    assert f"--top: {top!r} is not a number of rows >= 1" in capsys.readouterr().err


def test_terminal_table_is_drawn_by_rich(report_db, capsys):
    assert main(["report", "--db", str(report_db), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Top contact reasons, week 2026-W47")
    ranks = [line.split()[0] for line in out.splitlines() if line[:3].strip().isdigit()]
    assert ranks == ["1", "2"]
    assert "─" in out  # rich's rule under the header
    assert "EMERGING" in out
    assert "more reasons with" in out


def test_bi_views_exist_and_answer(report_db):
    with Database(report_db, read_only=True) as db:
        top = db.query("SELECT * FROM v_weekly_top_reasons WHERE week = '2026-W47' ORDER BY rank")
        alerts = db.query("SELECT * FROM v_alerts ORDER BY week")
        gaps = db.query("SELECT * FROM v_faq_gaps")
        views = db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
        )
    assert set(views["table_name"]) >= {"v_weekly_top_reasons", "v_alerts", "v_faq_gaps"}
    assert top["label"][0] == TOP_LABEL
    assert top["rank"][0] == 1
    assert {"week", "kind", "calls", "expected_calls", "q_value", "evidence"} <= set(alerts.columns)
    assert alerts.filter(alerts["kind"] == "falling")["label"].unique().to_list() == [LABELS[3]]
    assert gaps["label"].to_list() == [LABELS[3]]


def test_prefect_artifact_contents(report_db):
    with Database(report_db, read_only=True) as db:
        rows = report.top_reasons_artifact(db)
        text = report.alerts_markdown(db)
    assert rows[0]["reason"] == TOP_LABEL
    assert rows[0]["week"] == "2026-W47"
    assert set(rows[0]) == {
        "week",
        "reason",
        "calls",
        "share",
        "vs last week",
        "vs baseline",
        "alert",
    }
    assert text.startswith("# Alerts, week 2026-W47")
    assert "| rising | Ny app-opdatering virker ikke | 31 |" in text


def test_faq_gaps_are_read_whatever_columns_the_table_has(report_db, tmp_path):
    with Database(report_db, read_only=True) as db:
        gaps = report.faq_gap_table(db)
    assert gaps.columns == list(report.FAQ_COLUMNS)


def test_a_surge_that_goes_on_after_its_alerts_is_still_shown(report_db, tmp_path):
    # Reason 2 was alerted in W45 and W46; W47 gets no alert of its own (its surge raised its
    # baseline), yet it has more calls than in W46: the report must not read "nothing new".
    import shutil

    import polars as pl

    path = tmp_path / "r.duckdb"
    shutil.copy(report_db, path)
    with Database(path) as db:
        week, table = report.top_reasons(db)
        assert not table.filter(pl.col("reason_id") == 2)["still_rising"][0]  # it is emerging
        db._con.execute("DELETE FROM alerts WHERE week = '2026-W47'")
        db._con.execute(
            "UPDATE weekly_reason_stats SET is_emerging = false WHERE week = '2026-W47'"
        )
        week, table = report.top_reasons(db)
        row = table.filter(pl.col("reason_id") == 2).row(0, named=True)
        assert row["still_rising"]
        assert row["alerted_weeks"] == ["2026-W45", "2026-W46"]
        text = report.render_top_reasons(week, table)
        assert "Emerging: none this week" in text
        assert (
            f"Still rising after an alert: {LABELS[2]} (31 calls; alerted 2026-W45, 2026-W46)"
            in text
        )
        assert "STILL RISING" in text
        fewer = table.with_columns(
            pl.when(pl.col("reason_id") == 2).then(20).otherwise(pl.col("calls")).alias("calls")
        )
        assert report.ongoing_surges(db, week, fewer).height == 0  # 20 calls after 25: it eased
        assert any(r["alert"] == "still rising" for r in report.top_reasons_artifact(db))


def test_html_faq_table_says_a_new_pages_nearest_page_does_not_answer():
    import polars as pl

    from contact_reasons.report_html import _faq_table

    gaps = pl.DataFrame(
        {
            "rank": [1, 2],
            "label": ["Faktura", "Måler"],
            "recommendation": ["new_page", "improve_page"],
            "best_doc_title": ["Betaling", "Målerstand"],
        }
    )
    html = _faq_table(gaps)
    assert "<th>page</th>" in html
    assert "nearest, does not answer: Betaling" in html
    assert "to improve: Målerstand" in html


def _ignored_copy(report_db: Path, tmp_path: Path, reason_id: int) -> Path:
    db = tmp_path / "ignored.duckdb"
    db.write_bytes(report_db.read_bytes())
    assert main(["reasons", "ignore", str(reason_id), "--db", str(db)]) == 0
    return db


def test_the_weeks_total_counts_the_calls_of_ignored_reasons(report_db, tmp_path, capsys):
    # W47 had 80 calls; with reason 4 (10 calls) ignored the title said "(70 calls)" while every
    # share was still of 80: the shares did not add up to the total shown.
    db = _ignored_copy(report_db, tmp_path, 4)
    capsys.readouterr()
    assert main(["report", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Top contact reasons, week 2026-W47 (80 calls; 10 in ignored reasons, not shown)"
    )
    page = tmp_path / "weekly.html"
    assert main(["report", "--db", str(db), "--format", "html", "--output", str(page)]) == 0
    assert "80 calls (10 in ignored reasons, not shown);" in page.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--db", str(report_db)]) == 0
    assert capsys.readouterr().out.startswith("Top contact reasons, week 2026-W47 (80 calls)\n")


def test_an_ignored_reason_leaves_the_alerts_too(report_db, tmp_path):
    # `reasons ignore` takes a reason out of the report: the top table dropped it, but the
    # HTML's "Alerts, last 4 weeks", the xlsx alerts sheet and the alerts artifact kept its
    # "31 calls against ..." until the next run, and after it as well.
    db = _ignored_copy(report_db, tmp_path, 2)
    page = tmp_path / "weekly.html"
    assert main(["report", "--db", str(db), "--format", "html", "--output", str(page)]) == 0
    assert "31 calls against" not in page.read_text(encoding="utf-8")
    with Database(db, read_only=True) as opened:
        assert 2 not in report.week_alerts(opened)["reason_id"].to_list()
        assert 2 not in report.week_alerts(opened, "2026-W47", weeks=4)["reason_id"].to_list()
        assert LABELS[2] not in report.alerts_markdown(opened)
        assert 3 in report.week_alerts(opened)["reason_id"].to_list()


def test_the_printed_table_shows_the_change_against_last_week(report_db, capsys):
    # README: ops teams read each reason's "change against last week and against the past
    # four weeks"; the terminal table, CSV and JSON had only the change against the 4-week
    # average (the HTML and xlsx had both).
    assert main(["report", "--db", str(report_db), "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "vs last wk" in lines[1]
    assert "vs 4-wk avg" in lines[1]
    top = next(line for line in lines if TOP_LABEL in line).split()
    # 32 calls in W47 against 33 in W46 (-3 %) and a 4-week average of 30.5 (+5 %)
    assert top[-4:] == ["40.0%", "-3%", "30.5", "+5%"]
    assert main(["report", "--db", str(report_db), "--format", "csv"]) == 0
    header, first = capsys.readouterr().out.splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=False))
    assert (row["last_week_calls"], row["change_last_week_pct"]) == ("33", "-3.0")


def test_a_page_older_than_every_call_is_not_waiting_for_weeks(capsys):
    # The demo's "Skattekort for 2023" page is dated 2022-12-14, before the first call kept:
    # `faq` said "no weeks on both sides of it yet", as if a later run would show a before.
    from datetime import date

    import polars as pl

    row = {
        "rank": 1,
        "reason_id": 7,
        "label": "Skattekort bør endres",
        "recommendation": "covered",
        "best_url": "faq/skattekort.md",
        "best_doc_title": "Skattekort for 2023",
        "best_question": "Skattekort for 2023",
        "page_date_source": "text",
    }
    cases = [
        (
            date(2022, 12, 14),
            None,
            6.25,
            "page dated 2022-12-14 (text), before the first week kept: 6.2 calls/week since",
        ),
        (
            date(2026, 12, 6),
            9.08,
            None,
            "page dated 2026-12-06 (text), after the last week: "
            "9.1 calls/week before it, no week after it yet",
        ),
        (
            date(2026, 10, 5),
            11.2,
            3.3,
            "page dated 2026-10-05 (text): 11.2 -> 3.3 calls/week (-71%)",
        ),
    ]
    for day, before, after, said in cases:
        gaps = pl.DataFrame(
            [
                row
                | {"page_date": day, "calls_per_week_before": before, "calls_per_week_after": after}
            ]
        )
        text = report.render_faq_gaps(gaps)
        assert said in text, text
        assert "no weeks on both sides" not in text


def test_xlsx_shares_and_changes_read_as_percentages(report_db, tmp_path):
    # The sheet held share 0.4 and change_pct 0.049 in Excel's plain number format ("0.400",
    # "0.049"): a reader took +4.9 % for 0.049 %, and the CSV's change_pct is 4.9 for the same.
    out = tmp_path / "weekly.xlsx"
    assert main(["report", "--db", str(report_db), "--format", "xlsx", "--output", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["top reasons 2026-W47"]
    header = [c.value for c in sheet[1]]
    top = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert top["label"].value == TOP_LABEL
    for column in ("share", "change_last_week_pct", "change_pct", "name_share"):
        assert "%" in top[column].number_format, column
    assert top["share"].value == 0.4


def test_the_printed_report_lists_the_weeks_alerts_with_their_evidence(report_db, capsys):
    # README: ops teams read "the week's alerts: reasons that are new, rising or falling, each
    # with one line of evidence". The printed report had only "Emerging: ..." names: no
    # evidence, and a falling reason was not mentioned at all (HTML and xlsx only).
    with Database(report_db, read_only=True) as db:
        alerts = report.week_alerts(db)
    assert {"rising", "falling"} <= set(alerts["kind"])
    for r in alerts.iter_rows(named=True):
        assert main(["report", "--db", str(report_db), "--week", r["week"], "--top", "1"]) == 0
        out = capsys.readouterr().out
        assert f"Alerts, week {r['week']}:" in out
        assert f"  {r['kind']:<7} {r['label']}: {r['evidence']}" in out
    quiet = sorted(set(alerts["week"].to_list()) ^ {f"2026-W{w}" for w in range(36, 48)})[0]
    assert main(["report", "--db", str(report_db), "--week", quiet]) == 0
    assert f"Alerts, week {quiet}: none" in capsys.readouterr().out


def test_faq_on_a_database_without_recommendations_does_not_claim_full_coverage(tmp_path, capsys):
    # A database whose first run failed (or has not finished) printed "No gaps: the FAQ
    # answers every reason's calls." though no call had been compared with any page.
    path = tmp_path / "cr.duckdb"
    with Database(path):
        pass
    assert main(["faq", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "answers every reason" not in out
    assert "No FAQ recommendations yet" in out


def test_the_html_top_table_says_how_many_reasons_and_calls_it_leaves_out(report_db):
    # The page showed the 15 largest reasons under "N calls" with nothing on the rest: on the
    # demo 15 rows with 223 calls under "510 calls", the unexplained 30 among the missing.
    from contact_reasons.report_html import render_html

    with Database(report_db, read_only=True) as db:
        page = render_html(db, "2026-W47", top=2)
        full = render_html(db, "2026-W47")
    # W47: 32 + 31 shown; 10 + 7 in the two left out
    assert "2 more reasons with 17 calls (report --format csv lists them all)" in page
    assert "more reasons with" not in full


def test_the_printed_table_does_not_count_the_unexplained_as_a_reason():
    # "... 79 more reasons with 287 calls": one of the 79 was "(unexplained)", 30 calls no
    # reason explains, counted as if it were a reason.
    import polars as pl

    table = pl.DataFrame(
        {
            "reason_id": [1, 2, 3, -1],
            "label": ["Faktura", "Pakke", "Adresse", "(unexplained)"],
            "calls": [40, 20, 10, 30],
            "share": [0.4, 0.2, 0.1, 0.3],
            "baseline_calls": [30.0, 20.0, 10.0, 25.0],
            "change_pct": [0.33, 0.0, 0.0, 0.2],
            "is_emerging": [False] * 4,
            "p_value": [0.5] * 4,
            "examples": [[], [], [], []],
        }
    )
    text = report.render_top_reasons("2026-W47", table, "table", top=1)
    assert "... 2 more reasons with 30 calls, and 30 unexplained calls (" in text
    text = report.render_top_reasons("2026-W47", table.slice(2), "table", top=1)
    assert "... 30 unexplained calls (--format csv or json lists them all)" in text


def test_a_reason_without_a_baseline_yet_is_not_called_new():
    # Week 2 of the history (one past week, too few for a baseline) showed "new" against the
    # 4-week average for every reason, next to "+33%" against last week.
    import polars as pl

    table = pl.DataFrame(
        {
            "reason_id": [1, 2],
            "label": ["Faktura", "App-fejl"],
            "calls": [12, 9],
            "share": [0.5, 0.375],
            "last_week_calls": [9, None],
            "change_last_week_pct": [1 / 3, None],
            "baseline_calls": [None, 0.0],
            "change_pct": [None, None],
            "is_emerging": [False, False],
            "p_value": [None, 0.01],
            "examples": [[], []],
        }
    )
    rows = [
        line.split()
        for line in report.render_top_reasons("2026-W37", table, "table").splitlines()
        if line[:3].strip().isdigit()
    ]
    assert rows[0][-4:] == ["50.0%", "+33%", "-", "-"]  # no baseline yet: not new
    assert rows[1][-4:] == ["37.5%", "-", "0.0", "new"]  # none in the past weeks: new


def test_a_week_typed_in_lower_case_is_the_same_week(report_db, capsys):
    assert main(["report", "--db", str(report_db), "--week", "2026-W47", "--top", "1"]) == 0
    upper = capsys.readouterr().out
    assert main(["report", "--db", str(report_db), "--week", " 2026-w47", "--top", "1"]) == 0
    assert capsys.readouterr().out == upper
