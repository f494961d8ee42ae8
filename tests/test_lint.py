"""The code base is ruff-clean (pyproject.toml holds the rules), notebooks in solutions/ included."""

import subprocess
import sys

from grader.course import REPO


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
