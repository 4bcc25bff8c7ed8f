"""The configurations docs/self-service.md shows are accepted as they are written, one per platform."""

from __future__ import annotations

import json
import re
from pathlib import Path

import threadline
from threadline.botplatforms import registry

DOC = Path(threadline.__file__).resolve().parents[2] / "docs" / "self-service.md"


def examples() -> dict[str, dict]:
    section = DOC.read_text().split("## Bot platforms", 1)[1].split("\n## ", 1)[0]
    found = {}
    for part in re.split(r"\n### ", section)[1:]:
        kind = re.search(r"\(`([a-z_0-9]+)`\)", part.splitlines()[0]).group(1)
        block = re.search(r"```json\n(.*?)```", part, re.S).group(1)
        found[kind] = json.loads(block)
    return found


def test_each_platform_has_an_example_that_validates():
    documented = examples()
    assert sorted(documented) == sorted(registry.KINDS)
    for kind, config in documented.items():
        assert registry.validate_config(kind, config)["timeout_seconds"] == 10.0
