"""Streamed reading (`ingest.batch_rows`) gives exactly what reading each file whole gives."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from contact_reasons import ingest
from contact_reasons.config import IngestSettings
from contact_reasons.errors import InputError
from contact_reasons.ingest import IngestResult, read_inputs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "calls"


def _read(paths: list[Path], batch_rows: int, strict: bool | None = None) -> IngestResult:
    return read_inputs(paths, settings=IngestSettings(batch_rows=batch_rows), strict=strict)


def _assert_same(streamed: IngestResult, whole: IngestResult) -> None:
    assert_frame_equal(streamed.calls, whole.calls)
    assert_frame_equal(streamed.quarantine, whole.quarantine)
    assert_frame_equal(streamed.files, whole.files)
    assert (streamed.rows_read, streamed.duplicates) == (whole.rows_read, whole.duplicates)


def _same_as_whole(paths: list[Path], batch_rows: int = 3) -> IngestResult:
    """Read streamed (in tiny text chunks, to cut lines and characters) and whole; compare."""
    with mock.patch.object(ingest, "_TEXT_CHUNK", 5):
        streamed = _read(paths, batch_rows)
    _assert_same(streamed, _read(paths, 0))
    return streamed


def test_default_reads_in_batches_of_50000():
    assert IngestSettings().batch_rows == 50_000
    with pytest.raises(ValueError, match="batch_rows"):
        IngestSettings(batch_rows=-1)


@pytest.mark.parametrize("batch_rows", [7, 50_000])
def test_sample_streamed_equals_whole(batch_rows):
    streamed = _read([SAMPLE], batch_rows)
    _assert_same(streamed, _read([SAMPLE], 0))
    assert streamed.rows_read == 6000
    digests = dict(zip(streamed.files["path"], streamed.files["sha256"], strict=True))
    for path in sorted(SAMPLE.glob("*.csv")):
        assert digests[str(path)] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_streaming_does_not_read_files_whole(tmp_path):
    """The streamed path never holds a file's bytes: `Path.read_bytes` is not called."""
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("call_id,started_at,summary\nc1,2026-09-01,x\n", encoding="utf-8")
    jsonl_path = tmp_path / "b.jsonl"
    jsonl_path.write_text(
        json.dumps({"call_id": "c2", "started_at": "2026-09-01", "summary": "y"}) + "\n"
    )
    parquet_path = tmp_path / "c.parquet"
    pl.DataFrame({"call_id": ["c3"], "started_at": ["2026-09-01"], "summary": ["z"]}).write_parquet(
        parquet_path
    )
    with mock.patch.object(Path, "read_bytes", side_effect=AssertionError("read whole")):
        result = _read([tmp_path], 2)
    assert result.calls["call_id"].to_list() == ["c1", "c2", "c3"]


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = "call_id,started_at,summary,transcript,answered,duration_seconds"
CSV_ROWS = [
    "c1,2026-09-01,ok,,,",  # 1
    "c2,31/02/2026,bad time,,,",  # 2: invalid
    "",  # a blank line is no row
    "c3,2026-09-01,short",  # 3: ragged
    'c4,2026-09-01,"quoted\nnewline",,ja,12',  # 4
    "c1,2026-09-02,again,,,",  # 5: duplicate of row 1, in the second batch
    "   ",  # blank
    "c5,2026-09-01,ring 23 45 67 89,,maybe,",  # 6: invalid, redacted
    "c6,2026-09-01,x,,,-1",  # 7: invalid
    "c4,2026-09-03,later,,,",  # 8: duplicate of row 4
    "c7,2026-09-01,fine,,nej,1.234,5",  # 9: ragged (unquoted comma)
    "c8,2026-09-01T08:15:00+02:00,last,,,3",  # 10
]


def test_csv_bad_rows_across_batch_boundaries(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("\r\n".join([CSV_HEADER, *CSV_ROWS]) + "\r\n", encoding="utf-8")
    result = _same_as_whole([path])
    assert result.calls["call_id"].to_list() == ["c1", "c4", "c8"]
    assert result.calls["source_row"].to_list() == [1, 4, 10]
    q = result.quarantine
    assert q["source_row"].to_list() == [2, 3, 5, 6, 7, 8, 9]
    assert q["kind"].to_list() == ["invalid"] * 2 + ["duplicate"] + ["invalid"] * 2 + [
        "duplicate",
        "invalid",
    ]
    assert q["reason"][2] == f"{path} row 5: duplicate call_id 'c1' first seen in {path} row 1"
    assert q["reason"][5] == f"{path} row 8: duplicate call_id 'c4' first seen in {path} row 4"
    assert "23 45 67 89" not in q["record"][3]
    assert result.files["encoding"].to_list() == ["utf-8"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_csv_encodings_streamed(tmp_path, encoding):
    rows = [
        f"c{i};2026-09-01 08:{i:02d};Kunden vil ændre sin årlige pris på øl {i}" for i in range(9)
    ]
    path = tmp_path / "calls.csv"
    path.write_bytes("\n".join(["call_id;started_at;summary", *rows]).encode(encoding))
    result = _same_as_whole([path], batch_rows=2)
    assert result.files["encoding"].to_list() == [encoding]
    assert result.calls.height == 9
    assert result.calls["summary"][8] == "Kunden vil ændre sin årlige pris på øl 8"


def test_a_late_non_utf8_byte_reads_the_file_again(tmp_path):
    """Several batches are read as UTF-8 before a Windows-1252 byte turns up: those batches
    are dropped (their calls are not first seen), and the file is read again."""
    rows = [f"c{i},2026-09-01,svar {i}" for i in range(10)] + ["c0,2026-09-01,Åbent"]
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(["call_id,started_at,summary", *rows]).encode("cp1252"))
    result = _same_as_whole([path], batch_rows=2)
    assert result.files["encoding"].to_list() == ["cp1252"]
    assert result.calls.height == 10
    assert result.duplicates == 1
    assert result.quarantine["reason"].to_list() == [
        f"{path} row 11: duplicate call_id 'c0' first seen in {path} row 1"
    ]


def test_neither_utf8_nor_cp1252_is_read_whole_as_before(tmp_path):
    # 0x81 is no Windows-1252 character: only charset detection over the whole file is left.
    rows = [f"c{i},2026-09-01,x{i}" for i in range(6)] + ["c9,2026-09-01,\x81\xe6"]
    path = tmp_path / "odd.csv"
    path.write_bytes("\n".join(["call_id,started_at,summary", *rows]).encode("latin-1"))
    result = _same_as_whole([path], batch_rows=2)
    assert result.files["encoding"][0] not in ("utf-8", "cp1252")
    assert result.rows_read == 7


@pytest.mark.parametrize(
    ("text", "rows_read", "rejected"),
    [
        ("", 0, 0),
        (" \n\t\n", 0, 0),
        ("\t\t\n", 0, 0),  # whitespace only, though a tab is the sniffed delimiter
        ("call_id,started_at,summary\n", 0, 0),
        ("call_id,summary\nc1,x\n", 0, 1),  # missing column: file-level
        ("call_id;started_at;summary\rc1;2026-09-01;x\rc2;2026-09-01;y", 2, 0),  # old Mac ends
        # Sniffed over all the text when no line feed ends the header: ";" wins, no columns.
        ("call_id,started_at,summary\rc1;a;b;c\r", 0, 1),
        # The delimiter is sniffed from the first line, blank here: "," and one column.
        ("\n\ncall_id|started_at|summary\nc1|2026-09-01|x\n", 0, 1),
        ("call_id|started_at|summary\n\nc1|2026-09-01|x\n", 1, 0),
    ],
)
def test_csv_edge_files(tmp_path, text, rows_read, rejected):
    path = tmp_path / "edge.csv"
    path.write_text(text, encoding="utf-8", newline="")
    result = _same_as_whole([path])
    assert (result.rows_read, result.accounting()["files_rejected"]) == (rows_read, rejected)


def test_strict_mode_raises_the_same(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("call_id,summary\nc1,x\n")
    for batch_rows in (0, 2):
        with pytest.raises(InputError, match="missing required column 'started_at'"):
            _read([path], batch_rows, strict=True)


# --- JSONL -------------------------------------------------------------------------------------


def _jsonl_lines() -> list[str]:
    good = {"call_id": "j1", "started_at": "2026-09-01T08:15:00+02:00", "summary": "ok"}
    return [
        json.dumps(good),  # 1
        '{"call_id": "j2", "started_at": tlf 23 45 67 89',  # 2: not JSON
        "",  # 3: blank
        json.dumps({**good, "call_id": "j3", "answered": 1, "Wrap Code": [1, 2]}),  # 4
        "[1, 2]",  # 5: not an object
        json.dumps({**good, "call_id": "j4", "started_at": "nope"}),  # 6: invalid
        json.dumps({**good, "duration_seconds": 1.5}),  # 7: duplicate of 1
        "   ",  # 8: blank
        json.dumps({**good, "call_id": "j5", "transcript": [{"speaker": "a", "text": "æ"}]}),  # 9
    ]


def test_jsonl_bad_lines_across_batch_boundaries(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text("\r\n".join(_jsonl_lines()) + "\n", encoding="utf-8")
    result = _same_as_whole([path])
    assert result.calls["call_id"].to_list() == ["j1", "j3", "j5"]
    assert result.calls["source_row"].to_list() == [1, 4, 9]
    assert result.quarantine["source_row"].to_list() == [2, 5, 6, 7]
    assert result.quarantine["kind"].to_list() == ["invalid"] * 3 + ["duplicate"]
    assert result.files["extra_columns"].to_list() == [["wrap_code"]]
    assert result.rows_read == 7


def test_jsonl_missing_column_found_after_batches_rejects_the_whole_file(tmp_path):
    """A JSONL file's columns are known only at its end: rows read before are dropped, and
    their calls do not count as first seen for the next file."""
    bad = tmp_path / "a.jsonl"
    bad.write_text(
        "\n".join(json.dumps({"call_id": f"c{i}", "summary": "no time"}) for i in range(7)) + "\n"
    )
    good = tmp_path / "b.csv"
    good.write_text("call_id,started_at,summary\nc1,2026-09-01,x\n")
    result = _same_as_whole([tmp_path], batch_rows=2)
    assert result.calls["call_id"].to_list() == ["c1"]
    assert result.duplicates == 0
    assert result.quarantine["kind"].to_list() == ["file"]
    assert result.files["rows_read"].to_list() == [0, 1]
    with pytest.raises(InputError, match="a.jsonl: missing required column 'started_at'"):
        _read([tmp_path], 2, strict=True)


# --- Parquet -----------------------------------------------------------------------------------


def _parquet(path: Path) -> Path:
    n = 11
    pl.DataFrame(
        {
            "Call_ID": [f"p{i}" for i in range(n - 2)] + ["", "p0"],
            "started_at": [datetime(2026, 9, 1, 8, i) for i in range(n)],
            "summary": ["s"] * 3 + [None, " "] + ["s"] * 6,
            "transcript": [None] * 3 + ["t", None] + [None] * 6,
            "answered": [True, None, False] * 3 + [True, False],
            "duration_seconds": [1.5, None, -2.0] + [3.0] * 8,
            "language": ["da", "nb", None] + ["en"] * 8,
            "day": [date(2026, 9, 1)] * n,
            "tags": [["a", "b"]] * n,
        }
    ).write_parquet(path, row_group_size=4)
    return path


def test_parquet_in_batches_equals_whole(tmp_path):
    path = _parquet(tmp_path / "calls.parquet")
    result = _same_as_whole([path])
    assert result.calls["call_id"].to_list() == [f"p{i}" for i in range(9) if i not in (2, 4)]
    assert result.quarantine["source_row"].to_list() == [3, 5, 10, 11]
    assert result.quarantine["kind"].to_list() == ["invalid"] * 3 + ["duplicate"]
    assert result.files["extra_columns"].to_list() == [["day", "tags"]]
    assert result.files["sha256"][0] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_with_time_zone_in_batches(tmp_path):
    path = tmp_path / "tz.parquet"
    pl.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "started_at": [datetime(2026, 1, 1, 12)] * 3,
            "transcript": ["t"] * 3,
        }
    ).with_columns(pl.col("started_at").dt.replace_time_zone("Europe/Oslo")).write_parquet(path)
    result = _same_as_whole([path], batch_rows=1)
    assert result.calls["started_at"].dt.hour().to_list() == [11, 11, 11]


def test_unreadable_parquet_streamed(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    result = _read([path], 2)
    assert result.quarantine["kind"].to_list() == ["file"]
    assert result.quarantine["reason"][0].startswith(f"{path}: cannot read Parquet file: ")
    assert result.files["sha256"][0] == hashlib.sha256(b"not parquet at all").hexdigest()


# --- files read again, and fuzzing ------------------------------------------------------------


def test_reading_an_unchanged_folder_again_changes_nothing(tmp_path):
    (tmp_path / "calls.csv").write_text("\n".join([CSV_HEADER, *CSV_ROWS]) + "\n")
    (tmp_path / "calls.jsonl").write_text("\n".join(_jsonl_lines()) + "\n")
    _parquet(tmp_path / "calls.parquet")
    first = _read([tmp_path], 3)
    _assert_same(_read([tmp_path], 3), first)
    _assert_same(first, _read([tmp_path], 0))


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_special = st.text(alphabet=';,"\n\r\t æøåÆØÅ€\x00\u2028\ufeff{}[]:', max_size=15)
_cell = st.one_of(
    _text,
    _special,
    st.sampled_from(["", "2026-09-01", "c1", "c2", "ja", "123,5", "nan", "31/02/2026"]),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell, min_size=1, max_size=5), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    tail=st.binary(max_size=8),
    batch_rows=st.integers(min_value=1, max_value=4),
)
def test_fuzzed_csv_streamed_equals_whole(
    tmp_path_factory, rows, delimiter, encoding, tail, batch_rows
):
    folder = tmp_path_factory.mktemp("fuzz")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["call_id", "started_at", "summary", "answered", "extra"])
    writer.writerows(rows)
    (folder / "f.csv").write_bytes(buffer.getvalue().encode(encoding, errors="replace") + tail)
    _same_as_whole([folder], batch_rows)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    objects=st.lists(
        st.one_of(
            st.dictionaries(
                st.sampled_from(["call_id", "started_at", "Summary", "answered", "x"]),
                st.one_of(_cell, st.integers(), st.floats(), st.booleans(), st.none()),
            ),
            _special,
        ),
        max_size=10,
    ),
    line_end=st.sampled_from(["\n", "\r\n"]),
    tail=st.binary(max_size=8),
    batch_rows=st.integers(min_value=1, max_value=4),
)
def test_fuzzed_jsonl_streamed_equals_whole(tmp_path_factory, objects, line_end, tail, batch_rows):
    folder = tmp_path_factory.mktemp("fuzz")
    lines = [json.dumps(o, ensure_ascii=False) if isinstance(o, dict) else o for o in objects]
    (folder / "f.jsonl").write_bytes(line_end.join(lines).encode("utf-8") + tail)
    _same_as_whole([folder], batch_rows)
