"""The base of every domain event. Each domain declares its events in its own `events.py`.

An event is a frozen dataclass with a `type` of the form `noun.verb_past` and JSON-safe fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    type: ClassVar[str]
    workspace_id: int

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
