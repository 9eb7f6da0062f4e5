"""contact-reasons: why customers contact you, week by week."""

import os
import sys

__version__ = "0.1.0"


def _no_hugepage_madvise() -> None:
    """Ask numpy not to madvise transparent huge pages for big arrays, unless the user chose.

    numpy marks every array of 4 MB and more for huge pages. Where the kernel then compacts
    memory to find them (THP `defrag = madvise`, a machine that has run for a while), every
    fresh big array stalls: on the 2-core machine this project is measured on, filling a new
    102,000 x 384 float32 array took 1.65 s with the advice and 0.06 s without, and a
    100,000-call update's assignment spent seconds in such stalls. `NUMPY_MADVISE_HUGEPAGE`
    set in the environment (numpy's own switch, read when numpy is imported) wins: 1 keeps the
    advice. The variable is also set for processes this one starts (redaction workers).
    """
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    numpy = sys.modules.get("numpy")
    if numpy is None:  # numpy reads the variable when it is imported
        return
    try:  # imported before this package: numpy's runtime switch (stable since numpy 1.19)
        from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a numpy without it keeps its default
        return
    _set_madvise_hugepage(False)


_no_hugepage_madvise()
