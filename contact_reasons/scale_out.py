"""Batches that may run elsewhere: embedding new texts and assigning new calls, in pieces.

A `BatchMap` runs one function over a list of batches and returns the results in order. The
default, `serial_map`, runs them here, one after the other; the weekly flow hands the pipeline
one that submits each batch as a Prefect task, which `prefect-dask`'s `DaskTaskRunner` runs on a
Dask cluster (`scale_out.engine = "dask"`). The functions below are what a worker runs: plain
functions of picklable arguments, with no database (reads and writes stay in the flow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np
import polars as pl

T = TypeVar("T")


class BatchMap(Protocol):
    """Runs `fn(batch, *shared)` for every batch; returns the results in the batches' order."""

    def __call__(
        self, name: str, fn: Callable[..., T], batches: Sequence[Any], *shared: Any
    ) -> list[T]:
        """Run stage `name` over `batches`."""
        ...


def serial_map(name: str, fn: Callable[..., T], batches: Sequence[Any], *shared: Any) -> list[T]:
    """Run every batch here, in order (the default)."""
    return [fn(batch, *shared) for batch in batches]


def split(items: Sequence[T], size: int) -> list[list[T]]:
    """`items` in consecutive pieces of at most `size`."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def embed_batch(texts: list[str], embedder: Any, kind: str) -> np.ndarray:
    """Embed one batch of texts (on a worker, the embedder loads its model there once)."""
    vectors: np.ndarray = embedder.embed(texts, kind=kind)
    return vectors


def embed_in_batches(
    embedder: Any, texts: Sequence[str], kind: str, batches: BatchMap, size: int
) -> np.ndarray:
    """Embed `texts` in batches of `size` through `batches`; rows in the texts' order."""
    pieces = batches("embed_batch", embed_batch, split(list(texts), size), embedder, kind)
    return np.vstack(pieces).astype(np.float32)


def assign_in_batches(
    assign: Callable[[np.ndarray, pl.DataFrame, float], tuple[np.ndarray, np.ndarray]],
    batches: BatchMap,
    size: int,
) -> Callable[[np.ndarray, pl.DataFrame, float], tuple[np.ndarray, np.ndarray]]:
    """`assign` (prepared vectors, catalogue, threshold) run over row batches of `size`."""

    def batched(
        prepared: np.ndarray, catalogue: pl.DataFrame, threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if prepared.shape[0] == 0:
            return assign(prepared, catalogue, threshold)
        rows = [prepared[i : i + size] for i in range(0, prepared.shape[0], size)]
        parts = batches("assign_batch", assign, rows, catalogue, threshold)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    return batched
