"""Per-text work done once per distinct text: calls repeat their summaries often."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def map_distinct(func: Callable[[K], V], values: Iterable[K]) -> list[V]:
    """`func` of each value, in order, computed once for each distinct value."""
    done: dict[K, V] = {}
    out: list[V] = []
    for value in values:
        if value not in done:
            done[value] = func(value)
        out.append(done[value])
    return out
