"""`cluster` and `evaluate` read their one file as `run` reads an export (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_reasons.batch import cluster_file, read_table
from contact_reasons.config import Settings
from contact_reasons.errors import InputError

ROWS = [("1", "Hvor er min pakke"), ("2", "Kan jeg få en kopi af fakturaen")]


def _csv(path: Path, sep: str = ",", encoding: str = "utf-8", bom: bool = False) -> Path:
    lines = [f"id{sep}text"] + [f"{i}{sep}{t}" for i, t in ROWS]
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.mark.parametrize(
    ("sep", "encoding", "bom"),
    [(",", "utf-8", False), (";", "utf-8", True), (";", "cp1252", False), ("\t", "utf-8", True)],
)
def test_a_csv_is_read_with_its_separator_bom_and_encoding(tmp_path, sep, encoding, bom):
    # Danish Excel exports: semicolons, a BOM, Windows-1252. The README promises them for
    # input; `cluster` read only commas and turned 'ø' into U+FFFD.
    frame = read_table(_csv(tmp_path / "t.csv", sep, encoding, bom), ["id", "text"])
    assert frame.rows() == ROWS


def test_a_broken_jsonl_line_is_named(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "1", "text": "a"}\n\n{"id": "2", "text": broken\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.jsonl line 3: is not valid JSON"):
        read_table(path, ["id", "text"])


def test_jsonl_values_are_read_as_text(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"id": 1, "text": "Hvor er min pakke"}\n{"id": 2, "text": [{"speaker": "K"}]}\n',
        encoding="utf-8",
    )
    frame = read_table(path, ["id", "text"])
    assert frame.rows() == [("1", "Hvor er min pakke"), ("2", '[{"speaker": "K"}]')]


def test_an_empty_file_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.csv: the file is empty"):
        read_table(path, ["id", "text"])


def test_too_few_rows_are_refused_before_the_model_loads(tmp_path, monkeypatch):
    def no_model(*_args, **_kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("contact_reasons.batch.load_embedder", no_model)
    path = _csv(tmp_path / "t.csv")
    with pytest.raises(InputError, match=r"t\.csv: 2 rows; discovering reasons needs at least 10"):
        cluster_file(path, "id", "text", Settings())


def test_a_folder_is_named_as_a_folder_not_as_missing(tmp_path):
    # `cluster --input data/sample/calls` said "data/sample/calls: file not found": the folder
    # is there (run reads folders), cluster and evaluate read one file.
    _csv(tmp_path / "t.csv")
    with pytest.raises(InputError) as raised:
        read_table(tmp_path, ["id", "text"])
    assert str(raised.value) == f"{tmp_path}: is a folder; cluster and evaluate read one file"
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv", ["id", "text"])
