"""The code is linted and formatted as `just lint` says (ruff), so the suite fails on either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("check", [["check", "."], ["format", "--check", "."]])
def test_ruff(check):
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *check], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
