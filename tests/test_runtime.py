"""Process-wide settings the package makes when it is imported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ADVICE = (
    "from numpy._core.multiarray import _set_madvise_hugepage; "
    "print(_set_madvise_hugepage(False))"  # returns the state before
)


def _advice_after(code: str, value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = value
    done = subprocess.run(
        [sys.executable, "-c", f"{code}; {ADVICE}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("first", ["import contact_reasons", "import numpy, contact_reasons"])
def test_importing_the_package_turns_numpys_hugepage_advice_off(first):
    """numpy imported after the package or before it: no huge-page advice either way."""
    assert _advice_after(first, None) == "False"


def test_the_users_own_numpy_hugepage_setting_wins():
    assert _advice_after("import contact_reasons", "1") == "True"
