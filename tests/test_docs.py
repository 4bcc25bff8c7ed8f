"""The README documents every THREADLINE_ variable the code reads, and the two Quick start commands."""

from __future__ import annotations

import re
from pathlib import Path

import threadline
from threadline.config import env

REPO = Path(threadline.__file__).resolve().parents[2]


def test_readme_documents_every_variable():
    readme = (REPO / "README.md").read_text()
    missing = [name for name in env.VARIABLES if f"`THREADLINE_{name}`" not in readme]
    assert missing == []


def test_every_variable_the_code_reads_is_declared():
    used: set[str] = set()
    for path in (REPO / "src" / "threadline").rglob("*.py"):
        if "tests" in path.parts:
            continue
        text = path.read_text()
        used |= set(re.findall(r"(?<![A-Z_])THREADLINE_([A-Z][A-Z0-9_]+)", text))
        used |= set(re.findall(r"env\.(?:get|flag)\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
    assert sorted(used - set(env.VARIABLES)) == []


def test_quick_start_is_make_run_and_make_test():
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick and "make test" in quick
