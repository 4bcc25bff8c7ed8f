"""Real-time fan-out of domain events to the agents' sockets.

`on_event` is an immediate subscriber (events/registry.py): it runs right after the commit that published
the event, in the thread that committed (a request thread, or the job worker's thread). It forwards the
event, with its outbox id, to the workspace group; each agent socket passes it to its browser, which updates
lists, counts and the open conversation. A socket that was away replays the outbox from the last id it saw
(agents.py), so an event lost here (a crash between commit and send) is recovered on the next reconnect.
"""

from __future__ import annotations

from typing import Any

from threadline.realtime.dispatch import send_to_group
from threadline.realtime.groups import workspace_group

MESSAGE_TYPE = "domain.event"


def event_message(event_type: str, payload: dict[str, Any], outbox_id: int) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "event": event_type, "id": outbox_id, "payload": payload}


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    workspace_id = payload.get("workspace_id")
    if workspace_id is None:
        return
    send_to_group(workspace_group(int(workspace_id)), event_message(event_type, payload, outbox_id))
