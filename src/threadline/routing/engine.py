"""Choosing an agent: pure selection over candidates whose load is already counted (no writes here).

The policies:
    round_robin   the next eligible agent after the one assigned last, in membership order
    least_loaded  the eligible agent with the fewest open conversations of that capacity class
    skills        agents who speak the conversation's language first (others only if none can), then
                  least loaded
Ties go to the agent who was assigned longest ago, then to the lower membership id, so choices are stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from threadline.routing.models import Policy

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Candidate:
    membership_id: int
    languages: frozenset[str]
    skills: frozenset[str]
    capacity: int  # for the conversation's capacity class
    load: int  # open conversations of that class assigned now
    last_assigned_at: dt.datetime | None = None
    online: bool = True
    why_not: list[str] = field(default_factory=list)

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity


def eligible(candidates: Iterable[Candidate], *, required_skills: Sequence[str] = (),
             exclude: Iterable[int] = ()) -> list[Candidate]:
    """Online, with room left, with every required skill, and not excluded."""
    excluded = set(exclude)
    needed = set(required_skills)
    found = []
    for c in candidates:
        if c.membership_id in excluded:
            c.why_not.append("excluded")
        elif not c.online:
            c.why_not.append("not_online")
        elif not c.has_room:
            c.why_not.append("at_capacity")
        elif not needed <= c.skills:
            c.why_not.append("missing_skill")
        else:
            found.append(c)
    return found


def _fairness_key(c: Candidate) -> tuple[int, dt.datetime, int]:
    return (c.load, c.last_assigned_at or EPOCH, c.membership_id)


def choose(policy: str, candidates: list[Candidate], *, language: str = "", rr_cursor: int = 0) -> tuple[
        Candidate | None, str]:
    """The agent to assign among eligible `candidates`, and a short reason."""
    if not candidates or policy == Policy.MANUAL:
        return None, "no_candidate" if candidates == [] else "manual"
    if policy == Policy.ROUND_ROBIN:
        ordered = sorted(candidates, key=lambda c: c.membership_id)
        after = [c for c in ordered if c.membership_id > rr_cursor]
        return (after or ordered)[0], "round_robin"
    if policy == Policy.SKILLS and language:
        speakers = [c for c in candidates if language in c.languages]
        if speakers:
            return min(speakers, key=_fairness_key), "language_skill"
        return min(candidates, key=_fairness_key), "no_speaker_least_loaded"
    return min(candidates, key=_fairness_key), "least_loaded"
