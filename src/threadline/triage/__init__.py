"""Triage of public posts: category, sentiment, priority and a decision with its reasons (docs/social.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadline.triage.verdict import PublicPost, Verdict

__all__ = ["PublicPost", "Verdict", "triage_post"]


def triage_post(post: PublicPost) -> Verdict:
    """The verdict for one public post under its workspace's keyword lists, thresholds and provider."""
    from threadline.triage.engine import triage_post as run

    return run(post)


def __getattr__(name: str):  # PublicPost / Verdict without importing Django models at app loading
    if name in ("PublicPost", "Verdict"):
        from threadline.triage import verdict

        return getattr(verdict, name)
    raise AttributeError(name)
