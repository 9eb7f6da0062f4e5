"""Reading call exports: encodings, separators, validation, quarantine and accounting."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contact_reasons.config import IngestSettings, Settings
from contact_reasons.errors import ConfigError, InputError
from contact_reasons.ingest import (
    CALLS_SCHEMA,
    FILES_SCHEMA,
    QUARANTINE_SCHEMA,
    IngestResult,
    read_inputs,
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _balanced(result: IngestResult) -> bool:
    acc = result.accounting()
    return acc["read"] == acc["stored"] + acc["quarantined"] + acc["duplicates"]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- formats and encodings --------------------------------------------------------------------


def test_plain_utf8_csv(tmp_path):
    path = _write(
        tmp_path / "calls.csv",
        "call_id,started_at,summary,language,answered,duration_seconds\n"
        "c1,2026-09-01T08:15:00Z,Opsigelse af abonnement,da,true,61\n",
    )
    result = read_inputs([path])
    assert result.calls.schema == pl.Schema(CALLS_SCHEMA)
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert result.files.schema == pl.Schema(FILES_SCHEMA)
    row = result.calls.row(0, named=True)
    assert row["call_id"] == "c1"
    assert row["started_at"] == _utc(2026, 9, 1, 8, 15)
    assert row["summary"] == "Opsigelse af abonnement"
    assert row["transcript"] is None
    assert row["answered"] is True
    assert row["duration_seconds"] == 61.0
    assert row["source_file"] == str(path)
    assert row["source_row"] == 1
    files = result.files.row(0, named=True)
    assert files["format"] == "csv"
    assert files["encoding"] == "utf-8"
    assert files["rows_read"] == 1
    assert len(files["sha256"]) == 64
    assert result.accounting() == {
        "read": 1,
        "stored": 1,
        "quarantined": 0,
        "duplicates": 0,
        "files_rejected": 0,
    }


def test_utf8_with_bom(tmp_path):
    path = _write(tmp_path / "bom.csv", "call_id,started_at,summary\nc1,2026-09-01,Spørgsmål\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = read_inputs([path])
    assert result.calls["call_id"].to_list() == ["c1"]
    assert result.calls["summary"].to_list() == ["Spørgsmål"]
    assert result.files["encoding"].to_list() == ["utf-8-sig"]


def test_cp1252_with_danish_letters(tmp_path):
    text = (
        "call_id;started_at;summary\nc1;2026-09-01 08:15;Kunden vil ændre sin årlige pris på øl\n"
    )
    path = _write(tmp_path / "excel.csv", text, encoding="cp1252")
    result = read_inputs([path])
    assert result.calls["summary"].to_list() == ["Kunden vil ændre sin årlige pris på øl"]
    assert result.files["encoding"].to_list() == ["cp1252"]
    assert result.encodings == {str(path): "cp1252"}


@pytest.mark.parametrize("batch_rows", [0, 1])
def test_a_file_of_utf8_and_windows_1252_rows_reads_both(tmp_path, batch_rows):
    # Exports appended to one another: the UTF-8 rows came out as 'KÃ¸benhavn' when the file
    # was read as Windows-1252 because of its other rows.
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "call_id,started_at,summary\nm1,2026-09-01,København æble\n".encode()
        + "m2,2026-09-01,København æble, Århus\n".replace(", Århus", " Århus").encode("cp1252")
    )
    result = read_inputs([path], settings=IngestSettings(batch_rows=batch_rows))
    assert result.calls["summary"].to_list() == ["København æble", "København æble Århus"]
    assert result.files["encoding"].to_list() == ["cp1252"]


def test_semicolons_and_decimal_commas(tmp_path):
    path = _write(
        tmp_path / "dk.csv",
        "call_id;started_at;summary;duration_seconds\n"
        'c1;2026-09-01 08:15;"Faktura, rykker";123,5\n'
        "c2;2026-09-01 08:16;Levering;1.234,5\n",
    )
    result = read_inputs([path])
    assert result.calls["duration_seconds"].to_list() == [123.5, 1234.5]
    assert result.calls["summary"].to_list() == ["Faktura, rykker", "Levering"]


def test_quoted_newline_is_one_row(tmp_path):
    path = _write(
        tmp_path / "nl.csv",
        'call_id,started_at,summary\nc1,2026-09-01,"first line\nsecond line"\nc2,2026-09-01,x\n',
    )
    result = read_inputs([path])
    assert result.calls["summary"].to_list() == ["first line\nsecond line", "x"]
    assert result.calls["source_row"].to_list() == [1, 2]


def test_huge_field(tmp_path):
    big = "ord " * 100_000
    path = _write(tmp_path / "big.csv", f'call_id,started_at,transcript\nc1,2026-09-01,"{big}"\n')
    result = read_inputs([path])
    assert result.calls["transcript"].to_list() == [big]


def test_empty_file_is_recorded_without_error(tmp_path):
    path = _write(tmp_path / "empty.csv", "")
    result = read_inputs([path])
    assert result.calls.height == 0
    assert result.quarantine.height == 0
    assert result.rows_read == 0
    assert result.files.row(0, named=True)["rows_read"] == 0
    assert result.files["error"].to_list() == [None]


def test_header_only_file_has_no_rows(tmp_path):
    path = _write(tmp_path / "header.csv", "call_id,started_at,summary\n")
    result = read_inputs([path])
    assert result.rows_read == 0
    assert result.quarantine.height == 0


def test_blank_lines_are_not_rows(tmp_path):
    path = _write(tmp_path / "blank.csv", "call_id,started_at,summary\n\nc1,2026-09-01,x\n\n")
    result = read_inputs([path])
    assert result.rows_read == 1
    assert result.calls["source_row"].to_list() == [1]


def test_utf16_excel_export(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("call_id\tstarted_at\tsummary\nc1\t2026-09-01\tÆbler\n".encode("utf-16"))
    result = read_inputs([path])
    assert result.calls["summary"].to_list() == ["Æbler"]
    assert result.files["encoding"].to_list() == ["utf-16"]


def test_parquet(tmp_path):
    path = tmp_path / "calls.parquet"
    pl.DataFrame(
        {
            "Call_ID": ["p1", "p2", ""],
            "started_at": [
                datetime(2026, 9, 1, 8, 15),
                datetime(2026, 9, 1, 9, 0),
                datetime(2026, 9, 1, 9, 0),
            ],
            "summary": ["a", "b", "c"],
            "answered": [True, None, False],
            "duration_seconds": [1.5, None, 2.0],
        }
    ).write_parquet(path)
    result = read_inputs([path])
    assert result.calls["call_id"].to_list() == ["p1", "p2"]
    # Naive Parquet timestamps are local (Europe/Copenhagen, CEST in September).
    assert result.calls["started_at"].to_list() == [_utc(2026, 9, 1, 6, 15), _utc(2026, 9, 1, 7)]
    assert result.calls["answered"].to_list() == [True, None]
    assert result.calls["duration_seconds"].to_list() == [1.5, None]
    assert result.quarantine["column"].to_list() == ["call_id"]
    assert result.files.row(0, named=True)["format"] == "parquet"
    assert result.files.row(0, named=True)["encoding"] is None
    assert _balanced(result)


def test_parquet_with_time_zone(tmp_path):
    path = tmp_path / "tz.parquet"
    pl.DataFrame(
        {"call_id": ["z"], "started_at": [datetime(2026, 1, 1, 12)], "transcript": ["t"]}
    ).with_columns(pl.col("started_at").dt.replace_time_zone("Europe/Oslo")).write_parquet(path)
    result = read_inputs([path])
    assert result.calls["started_at"].to_list() == [_utc(2026, 1, 1, 11)]


def test_unreadable_parquet_is_quarantined_or_raised(tmp_path):
    path = _write(tmp_path / "broken.parquet", "not parquet at all")
    result = read_inputs([path])
    assert result.quarantine["kind"].to_list() == ["file"]
    assert "cannot read Parquet" in result.quarantine["reason"][0]
    with pytest.raises(InputError, match="broken.parquet: cannot read Parquet"):
        read_inputs([path], strict=True)


def test_jsonl_with_a_bad_line(tmp_path):
    turns = [{"speaker": "customer", "text": "Jeg vil opsige"}]
    lines = [
        json.dumps(
            {"call_id": "j1", "started_at": "2026-09-01T08:15:00+02:00", "transcript": turns}
        ),
        '{"call_id": "j2", "started_at": tlf 23 45 67 89',
        "",
        json.dumps({"call_id": "j3", "started_at": "2026-09-01", "summary": "ok", "answered": 1}),
        "[1, 2]",
    ]
    path = _write(tmp_path / "calls.jsonl", "\n".join(lines) + "\n")
    result = read_inputs([path])
    assert result.calls["call_id"].to_list() == ["j1", "j3"]
    assert json.loads(result.calls["transcript"][0]) == turns
    assert result.calls["answered"].to_list() == [None, True]
    bad = result.quarantine.sort("source_row")
    assert bad["source_row"].to_list() == [2, 5]
    assert bad["reason"][0].startswith(f"{path} line 2: is not valid JSON")
    assert "23 45 67 89" not in bad["value"][0]
    assert "23 45 67 89" not in bad["record"][0]
    assert "[PHONE]" in bad["value"][0]
    assert "not an object" in bad["reason"][1]
    assert result.rows_read == 4
    assert _balanced(result)


def test_ndjson_suffix(tmp_path):
    path = _write(
        tmp_path / "x.ndjson",
        json.dumps({"call_id": "n", "started_at": "2026-09-01", "summary": "s"}),
    )
    assert read_inputs([path]).calls["call_id"].to_list() == ["n"]


def test_jsonl_missing_required_column_is_file_level(tmp_path):
    path = _write(tmp_path / "nots.jsonl", json.dumps({"call_id": "n", "summary": "s"}) + "\n")
    result = read_inputs([path])
    assert result.quarantine["kind"].to_list() == ["file"]
    assert result.rows_read == 0


# --- columns ----------------------------------------------------------------------------------


def test_column_names_are_case_insensitive_and_stripped(tmp_path):
    path = _write(tmp_path / "c.csv", " Call_ID ,STARTED_AT, Summary\nc1,2026-09-01,x\n")
    assert read_inputs([path]).calls["call_id"].to_list() == ["c1"]


def test_extra_columns_are_ignored_and_listed(tmp_path):
    path = _write(
        tmp_path / "extra.csv",
        "call_id,started_at,summary,agent_name,Wrap Code\nc1,2026-09-01,x,A,B\n",
    )
    result = read_inputs([path])
    assert result.calls.columns == list(CALLS_SCHEMA)
    assert result.files["extra_columns"].to_list() == [["agent_name", "wrap_code"]]


def test_missing_column_raises_in_strict_mode(tmp_path):
    path = _write(tmp_path / "calls.csv", "call_id,summary\nc1,x\n")
    with pytest.raises(
        InputError,
        match=r"calls\.csv: missing required column 'started_at' \(found: call_id, summary\)",
    ):
        read_inputs([path], strict=True)
    with pytest.raises(InputError, match="missing required column 'started_at'"):
        read_inputs([path], settings=IngestSettings(strict=True))


def test_missing_column_is_quarantined_and_other_files_go_on(tmp_path):
    bad = _write(tmp_path / "a.csv", "call_id,summary\nc1,x\n")
    good = _write(tmp_path / "b.csv", "call_id,started_at,summary\nc2,2026-09-01,y\n")
    result = read_inputs([tmp_path])
    assert result.calls["call_id"].to_list() == ["c2"]
    q = result.quarantine.row(0, named=True)
    assert q["kind"] == "file"
    assert q["source_file"] == str(bad)
    assert q["source_row"] == 0
    assert q["reason"] == f"{bad}: missing required column 'started_at' (found: call_id, summary)"
    files = {r["path"]: r for r in result.files.iter_rows(named=True)}
    assert files[str(bad)]["error"] == q["reason"]
    assert files[str(good)]["error"] is None
    assert result.accounting()["files_rejected"] == 1
    assert _balanced(result)


def test_a_text_column_is_required(tmp_path):
    path = _write(tmp_path / "notext.csv", "call_id,started_at\nc1,2026-09-01\n")
    result = read_inputs([path])
    assert "missing required column 'summary' or 'transcript'" in result.quarantine["reason"][0]


def test_transcript_alone_is_enough(tmp_path):
    path = _write(tmp_path / "t.csv", 'call_id,started_at,transcript\nc1,2026-09-01,"[]"\n')
    assert read_inputs([path]).calls["transcript"].to_list() == ["[]"]


# --- paths ------------------------------------------------------------------------------------


def test_unknown_suffix_names_the_file(tmp_path):
    path = _write(tmp_path / "calls.xlsx", "x")
    with pytest.raises(InputError, match=r"calls\.xlsx: unknown file type '\.xlsx'"):
        read_inputs([path])


def test_missing_path_names_it(tmp_path):
    with pytest.raises(InputError, match="nope.csv: no such file"):
        read_inputs([tmp_path / "nope.csv"])


def test_folders_are_searched_recursively_in_sorted_order(tmp_path):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "b.csv", "call_id,started_at,summary\nb,2026-09-01,x\n")
    _write(
        tmp_path / "a.jsonl",
        json.dumps({"call_id": "a", "started_at": "2026-09-01", "summary": "y"}),
    )
    _write(tmp_path / "README.md", "not data")
    result = read_inputs([tmp_path])
    assert result.files["path"].to_list() == [
        str(tmp_path / "a.jsonl"),
        str(tmp_path / "sub" / "b.csv"),
    ]
    assert result.calls["call_id"].to_list() == ["a", "b"]


def test_unknown_time_zone_is_a_config_error(tmp_path):
    path = _write(tmp_path / "c.csv", "call_id,started_at,summary\nc1,2026-09-01,x\n")
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        read_inputs([path], settings=IngestSettings(timezone="Mars/Olympus"))


# --- timestamps -------------------------------------------------------------------------------


def test_timestamps_with_and_without_time_zone(tmp_path):
    path = _write(
        tmp_path / "ts.csv",
        "call_id,started_at,summary\n"
        "a,2026-09-01 08:15,x\n"
        "b,2026-09-01T08:15:00+02:00,x\n"
        "c,2026-09-01T06:15:00Z,x\n"
        "d,2026-01-15T08:15,x\n"
        "e,2026-09-01T08:15:00.123456,x\n"
        "f,2026-09-01,x\n",
    )
    result = read_inputs([path])
    assert result.calls["started_at"].to_list() == [
        _utc(2026, 9, 1, 6, 15),
        _utc(2026, 9, 1, 6, 15),
        _utc(2026, 9, 1, 6, 15),
        _utc(2026, 1, 15, 7, 15),  # winter: CET is UTC+1
        datetime(2026, 9, 1, 6, 15, 0, 123456, tzinfo=UTC),
        _utc(2026, 8, 31, 22),
    ]


def test_naive_timestamps_use_the_configured_zone(tmp_path):
    path = _write(tmp_path / "ts.csv", "call_id,started_at,summary\na,2026-09-01 08:15,x\n")
    result = read_inputs(
        [path], settings=Settings().with_overrides({"ingest": {"timezone": "UTC"}})
    )
    assert result.calls["started_at"].to_list() == [_utc(2026, 9, 1, 8, 15)]


# --- bad rows ---------------------------------------------------------------------------------


def _rows_file(tmp_path: Path, rows: list[str]) -> Path:
    header = "call_id,started_at,summary,transcript,answered,duration_seconds"
    return _write(tmp_path / "calls.csv", "\n".join([header, *rows]) + "\n")


def test_bad_timestamp_reason_names_file_row_column_and_value(tmp_path):
    rows = [f"c{i},2026-09-01,x,,," for i in range(1, 41)] + ["c41,31/02/2026,x,,,"]
    path = _rows_file(tmp_path, rows)
    result = read_inputs([path])
    q = result.quarantine.row(0, named=True)
    assert q["reason"] == (
        f"{path} row 41: column 'started_at' = '31/02/2026' is not a timestamp (expected ISO 8601)"
    )
    assert (q["source_row"], q["column"], q["value"], q["kind"]) == (
        41,
        "started_at",
        "31/02/2026",
        "invalid",
    )
    assert json.loads(q["record"])["call_id"] == "c41"
    assert result.calls.height == 40


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (",2026-09-01,x,,,", "call_id", "column 'call_id' is empty"),
        ("   ,2026-09-01,x,,,", "call_id", "column 'call_id' is empty"),
        ("c1,,x,,,", "started_at", "column 'started_at' is empty"),
        ("c1,2026-02-30T10:00,x,,,", "started_at", "is not a timestamp"),
        ("c1,yesterday,x,,,", "started_at", "is not a timestamp"),
        ("c1,1899-01-01,x,,,", "started_at", "is outside 1970-2099"),
        ("c1,2026-09-01,,,,", "summary", "'summary' and 'transcript' are both empty"),
        ("c1,2026-09-01,  ,  ,,", "summary", "'summary' and 'transcript' are both empty"),
        ("c1,2026-09-01,x,,maybe,", "answered", "column 'answered' = 'maybe' is not yes/no"),
        ("c1,2026-09-01,x,,,lang", "duration_seconds", "is not a number of seconds"),
        ("c1,2026-09-01,x,,,-5", "duration_seconds", "is not a number of seconds"),
        ("c1,2026-09-01,x,,,nan", "duration_seconds", "is not a number of seconds"),
    ],
)
def test_each_kind_of_bad_row_is_quarantined(tmp_path, row, column, fragment):
    result = read_inputs([_rows_file(tmp_path, ["ok,2026-09-01,fine,,,", row])])
    assert result.calls["call_id"].to_list() == ["ok"]
    q = result.quarantine.row(0, named=True)
    assert q["column"] == column
    assert q["kind"] == "invalid"
    assert q["source_row"] == 2
    assert fragment in q["reason"]
    assert _balanced(result)


@pytest.mark.parametrize("batch_rows", [0, 2])
def test_a_call_dated_in_the_future_is_quarantined(tmp_path, batch_rows):
    # One mistyped year (2062 for 2026) made that call the latest: the window, which ends at
    # the latest call, moved to 2062 and left every real call of this and later runs out.
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    soon = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    rows = [
        "ok,2026-09-01,fine,,,",
        "c1,2062-11-10T10:00,x,,,",
        f"c2,{future},x,,,",
        f"c3,{soon},x,,,",
    ]
    result = read_inputs(
        [_rows_file(tmp_path, rows)], settings=IngestSettings(batch_rows=batch_rows)
    )
    assert result.calls["call_id"].to_list() == ["ok", "c3"]  # a clock a few hours ahead is fine
    assert result.quarantine["source_row"].to_list() == [2, 3]
    assert result.quarantine["column"].to_list() == ["started_at", "started_at"]
    reason = result.quarantine["reason"][0]
    assert "row 2: column 'started_at' = '2062-11-10T10:00' is in the future" in reason
    assert _balanced(result)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("true", True), ("FALSE", False), ("1", True), ("0", False), ("ja", True), ("Nej", False),
        ("yes", True), ("no", False), ("j", True), ("n", False), ("nei", False), (" Ja ", True),
    ],
)  # fmt: skip
def test_answered_words(tmp_path, word, expected):
    result = read_inputs([_rows_file(tmp_path, [f"c1,2026-09-01,x,,{word},"])])
    assert result.calls["answered"].to_list() == [expected]


def test_a_row_with_several_problems_is_one_quarantine_row(tmp_path):
    result = read_inputs([_rows_file(tmp_path, [",nope,,,maybe,x"])])
    assert result.quarantine.height == 1
    reason = result.quarantine["reason"][0]
    for fragment in ("call_id", "started_at", "both empty", "answered", "duration_seconds"):
        assert fragment in reason
    assert _balanced(result)


def test_ragged_rows_are_quarantined(tmp_path):
    result = read_inputs([_rows_file(tmp_path, ["c1,2026-09-01,x", "c2,2026-09-01,x,,,,extra"])])
    reasons = result.quarantine["reason"].to_list()
    assert "has 3 fields, the header has 6" in reasons[0]
    assert "has 7 fields, the header has 6" in reasons[1]
    assert _balanced(result)


def test_quarantine_holds_only_redacted_text(tmp_path):
    rows = [
        "c1,ring 23 45 67 89,x,,,",
        "c2,2026-09-01,mail jens@example.dk cpr 010203-1234,,maybe,",
        "c3,2026-09-01,,,,+45 12 34 56 78",
    ]
    result = read_inputs([_rows_file(tmp_path, rows)])
    assert result.quarantine.height == 3
    stored = " ".join(str(v) for row in result.quarantine.iter_rows() for v in row if v is not None)
    for secret in ("23 45 67 89", "jens@example.dk", "010203-1234", "12 34 56 78"):
        assert secret not in stored
    assert "[PHONE]" in result.quarantine["value"][0]
    assert "[PHONE]" in result.quarantine["reason"][0]
    assert "[EMAIL]" in result.quarantine["record"][1]


@pytest.mark.parametrize(
    ("call_id", "kind", "shown"),
    [
        ("+4521345678-20261201T1000", "a phone number", "[PHONE]-20261201T1000"),
        ("+47 912 34 567", "a phone number", "[PHONE]"),
        ("kari.nordmann@example.no", "an e-mail address", "[EMAIL]"),
        ("kunde-010190-1234", "a CPR number", "kunde-[CPR]"),
    ],
)
def test_a_call_id_holding_personal_data_is_quarantined_redacted(tmp_path, call_id, kind, shown):
    # The id is stored as given, shown in reports and the event log: it must not be the
    # caller's number, e-mail or CPR number. The row is kept in quarantine, redacted.
    path = _rows_file(tmp_path, ["ok,2026-09-01,fine,,,", f"{call_id},2026-09-01,faktura,,,"])
    result = read_inputs([path])
    assert result.calls["call_id"].to_list() == ["ok"]
    q = result.quarantine.row(0, named=True)
    assert (q["source_row"], q["column"], q["value"], q["kind"]) == (2, "call_id", shown, "invalid")
    assert q["reason"] == (
        f"{path} row 2: column 'call_id' = '{shown}' holds personal data ({kind}); "
        "export the phone system's own call id instead"
    )
    assert json.loads(q["record"])["call_id"] == shown
    assert call_id not in _dump(result)
    assert _balanced(result)


@pytest.mark.parametrize(
    "call_id",
    [
        "92bce5c8-3d32-4ab1-a8dd-f43612f098d9",
        "25346993-0227-4ad6-9a3d-9dff535b8c83",  # 8 digits first: redact_text reads a phone
        "21345678",  # a bare number: ordinary numeric ids look the same
        "1203456789",
        "20261201-123456",
        "CALL-2026-000123",
        "2026-12-01T10:00:00-0001",
    ],
)
def test_ordinary_call_ids_are_stored_as_given(tmp_path, call_id):
    result = read_inputs([_rows_file(tmp_path, [f"{call_id},2026-09-01,faktura,,,"])])
    assert result.calls["call_id"].to_list() == [call_id]
    assert result.quarantine.height == 0


def _dump(result: IngestResult) -> str:
    frames = (result.calls.drop("started_at"), result.quarantine, result.files)
    return json.dumps([f.to_dicts() for f in frames], ensure_ascii=False, default=str)


@pytest.mark.parametrize("batch_rows", [0, 2])
def test_personal_data_in_a_file_name_is_redacted(tmp_path, batch_rows):
    # The file name is stored with every call (`source_file`), quarantined row and run.
    body = "call_id,started_at,summary\n{0}1,2026-09-01,faktura\n{0}2,nope,faktura\n"
    named = [
        _write(tmp_path / "calls_kari.nordmann@example.no.csv", body.format("c")),
        _write(tmp_path / "voicemail_21345678.csv", body.format("v")),
        _write(tmp_path / "kunde 120385-1234.jsonl", '{"call_id": "j1"}\n'),
    ]
    result = read_inputs(named, settings=IngestSettings(batch_rows=batch_rows))
    assert result.accounting()["stored"] == 2
    dump = _dump(result)
    for secret in ("kari.nordmann", "21345678", "120385"):
        assert secret not in dump
    assert "[EMAIL]" in result.calls["source_file"][0]
    assert result.calls["source_file"][1].endswith("voicemail [PHONE].csv")
    assert "row 2" in result.quarantine["reason"][0]
    # an ordinary file name stays as it is
    plain = _write(tmp_path / "calls_2026-W36.csv", body.format("p"))
    assert read_inputs([plain]).calls["source_file"].to_list() == [str(plain)]


@pytest.mark.parametrize("batch_rows", [0, 2])
def test_a_file_without_a_header_keeps_its_first_row_out_of_the_messages(tmp_path, batch_rows):
    # Without a header the first row is read as column names: they are shown and stored.
    path = _write(
        tmp_path / "noheader.csv",
        "x1,2026-09-01,Kunde ringede fra 21345678 om cpr 120385-1234\nx2,2026-09-01,faktura\n",
    )
    config = IngestSettings(batch_rows=batch_rows)
    result = read_inputs([path], settings=config)
    assert result.accounting()["files_rejected"] == 1
    dump = _dump(result)
    for secret in ("21345678", "120385"):
        assert secret not in dump
    assert f"{path}: missing required column 'call_id'" in result.quarantine["reason"][0]
    assert "[PHONE]" in result.quarantine["reason"][0]
    with pytest.raises(InputError) as raised:
        read_inputs([path], settings=config, strict=True)
    assert "21345678" not in str(raised.value)
    assert "missing required column 'call_id'" in str(raised.value)


# --- duplicates -------------------------------------------------------------------------------


def test_duplicates_within_and_across_files(tmp_path):
    a = _write(
        tmp_path / "a.csv",
        "call_id,started_at,summary\nc1,2026-09-01,first\nc2,2026-09-01,x\nc1,2026-09-02,again\n",
    )
    b = _write(
        tmp_path / "b.csv", "call_id,started_at,summary\nc2,2026-09-03,later\nc3,2026-09-03,y\n"
    )
    result = read_inputs([b, a])  # order given does not matter: files are read sorted
    assert result.calls["call_id"].to_list() == ["c1", "c2", "c3"]
    assert result.calls["summary"].to_list() == ["first", "x", "y"]
    assert result.duplicates == 2
    dup = result.quarantine.filter(pl.col("kind") == "duplicate").sort("source_file", "source_row")
    assert dup["reason"].to_list() == [
        f"{a} row 3: duplicate call_id 'c1' first seen in {a} row 1",
        f"{b} row 1: duplicate call_id 'c2' first seen in {a} row 2",
    ]
    assert result.accounting() == {
        "read": 5,
        "stored": 3,
        "quarantined": 0,
        "duplicates": 2,
        "files_rejected": 0,
    }


def test_an_invalid_first_row_does_not_shadow_a_valid_later_one(tmp_path):
    path = _write(tmp_path / "c.csv", "call_id,started_at,summary\nc1,bad,x\nc1,2026-09-01,ok\n")
    result = read_inputs([path])
    assert result.calls["source_row"].to_list() == [2]
    assert result.duplicates == 0
    assert _balanced(result)


def test_no_inputs_gives_empty_frames():
    result = read_inputs([])
    assert result.calls.schema == pl.Schema(CALLS_SCHEMA)
    assert result.quarantine.height == 0
    assert result.accounting()["read"] == 0


# --- fuzzing ----------------------------------------------------------------------------------


_timestamps = st.one_of(
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2120, 1, 1)).map(
        lambda d: d.isoformat(sep=" ")
    ),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2098, 1, 1)).map(
        lambda d: d.isoformat(timespec="minutes")
    ),
    st.sampled_from(
        ["2026-09-01T08:15:00Z", "2026-09-01T08:15:00+02:00", "31/02/2026", "", " ", "2026-13-01"]
    ),
    st.text(max_size=30),
)
_cell = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=";,\"\n\r\t'æøåÆØÅ €\x00\u2028", max_size=20),
    st.sampled_from(["", "ja", "nej", "1", "0", "123,5", "-1", "nan", "maybe"]),
)
FUZZ_COLUMNS = [
    "call_id",
    "started_at",
    "summary",
    "transcript",
    "answered",
    "duration_seconds",
    "extra",
]
_row = st.fixed_dictionaries(
    {
        "call_id": st.one_of(
            st.from_regex(r"c[0-9]{1,2}", fullmatch=True),
            st.sampled_from(["", " "]),
            st.text(max_size=8),
        ),
        "started_at": _timestamps,
        "summary": _cell,
        "transcript": _cell,
        "answered": st.one_of(st.sampled_from(["", "ja", "Nej", "true", "0"]), _cell),
        "duration_seconds": st.one_of(st.sampled_from(["", "12", "123,5", "0.5"]), _cell),
        "extra": _cell,
    }
)
_good_row = st.fixed_dictionaries(
    {
        "call_id": st.from_regex(r"c[0-9]{1,3}", fullmatch=True),
        "started_at": st.datetimes(
            min_value=datetime(1971, 1, 1), max_value=datetime(2098, 1, 1)
        ).map(lambda d: d.isoformat()),
        "summary": st.text(min_size=1, max_size=40).filter(str.strip),
        "transcript": _cell,
        "answered": st.sampled_from(["", "ja", "Nej", "true", "0", "J", "no"]),
        "duration_seconds": st.sampled_from(["", "12", "123,5", "0.5", "1.234,5"]),
        "extra": _cell,
    }
)


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.one_of(_row, _good_row), max_size=30),
    delimiter=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    garbage=st.lists(st.text(max_size=60), max_size=3),
    header_case=st.sampled_from([str.lower, str.upper, str.title]),
)
def test_fuzzed_csv_never_raises_and_accounts_for_every_row(
    tmp_path_factory, rows, delimiter, encoding, garbage, header_case
):
    folder = tmp_path_factory.mktemp("fuzz")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([header_case(c) for c in FUZZ_COLUMNS])
    for row in rows:
        writer.writerow([row[c] for c in FUZZ_COLUMNS])
    text = buffer.getvalue() + "".join(g + "\n" for g in garbage)
    data = text.encode(encoding, errors="replace")
    (folder / "fuzz.csv").write_bytes(data)
    result = read_inputs([folder])
    assert _balanced(result)
    acc = result.accounting()
    if not garbage:
        assert acc["read"] == len(rows)
    assert result.calls["call_id"].n_unique() == result.calls.height
    assert result.quarantine["kind"].is_in(["invalid", "duplicate", "file"]).all()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".jsonl"]),
)
def test_fuzzed_bytes_never_raise(tmp_path_factory, body, suffix):
    folder = tmp_path_factory.mktemp("bytes")
    header = b"call_id;started_at;summary\n" if suffix == ".csv" else b""
    (folder / f"raw{suffix}").write_bytes(header + body)
    result = read_inputs([folder])
    assert _balanced(result)
