"""A benchmark's own section of a markdown file, between two markers, keeping earlier rows.

`benchmarks/pipeline.py` and `benchmarks/ingest_memory.py` each keep a table in
`docs/benchmarks.md` between their own `<!-- ...:begin -->` and `<!-- ...:end -->` markers,
with every row also kept as JSON in a comment, so that a run at one size adds or replaces its
own row and leaves the other sizes' rows as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def update_section(
    path: Path,
    markers: tuple[str, str, str],
    result: Row,
    key: Callable[[Row], Hashable],
    order: Callable[[Row], Any],
    render: Callable[[list[Row]], str],
) -> None:
    """Add `result` to the rows kept in `path`'s marked section and write the section again.

    Args:
        path: the markdown file (created when missing; the section goes at its end when it has
            none yet).
        markers: the section's begin marker, the rows comment's prefix and the end marker.
        result: the new row; a kept row with the same `key` is replaced.
        key: what makes two rows the same measurement (size and settings).
        order: how the rows are sorted.
        render: the whole section, markers included, from the sorted rows.
    """
    begin, rows_marker, end = markers
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    rows: list[Row] = []
    if rows_marker in old:
        kept = json.loads(old.split(rows_marker, 1)[1].split(" -->", 1)[0])
        rows = [r for r in kept if key(r) != key(result)]
    text = render(sorted([*rows, result], key=order))
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")
