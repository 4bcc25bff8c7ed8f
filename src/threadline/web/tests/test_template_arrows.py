"""Direction-bound arrows are drawn by CSS, which mirrors them right to left (`.back-link`, `.back-arrow`)."""

from __future__ import annotations

from pathlib import Path

import threadline

ROOT = Path(threadline.__file__).parent


def test_no_template_hard_codes_a_back_arrow():
    # A literal "←" before "Inbox" pointed away from the inbox in Hebrew and Persian (the page reads right to left).
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.glob("*/templates/**/*.html")
                 if "←" in path.read_text(encoding="utf-8")]
    assert offenders == [], f"use class=\"back-arrow\" instead of a literal ← in {offenders}"
