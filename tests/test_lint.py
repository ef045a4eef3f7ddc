"""The code is linted, formatted and type-checked as `just lint` says (ruff, mypy), so the
suite fails on any of them."""

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


def test_mypy():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "storemon"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
