"""Sanitizing HTML that agents or customers wrote before it is stored or shown (nh3: an allow-list)."""

from __future__ import annotations

import nh3


def sanitize(html: str) -> str:
    """Keep formatting tags and safe links; drop scripts, styles, event handlers and `javascript:` URLs."""
    if not html:
        return ""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto", "tel"})
