"""The triage verdict of a public item (threadline.triage decides; this builds its question) and whether the
author is a known customer: an identity of the workspace matching the provider's id of the author (a
Page-scoped or Instagram-scoped id) or their public handle (`external` identity `<source>:<handle>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threadline.contacts.models import Contact, ContactIdentity

if TYPE_CHECKING:
    from threadline.channels.models import Channel
    from threadline.social.models import PublicItem
    from threadline.triage.verdict import Verdict


def handle_address(source: str, handle: str) -> str:
    """The `external` identity address of a public handle: `x:@dana` → "x:dana"."""
    return f"{source}:{handle.strip().lstrip('@').lower()}"


def known_contact(workspace_id: int, *, kind: str, address: str, source: str, handle: str) -> Contact | None:
    """The contact behind a public author, when an identity matches their id or their handle."""
    wanted = []
    if kind and address:
        wanted.append((kind, address))
    if handle:
        wanted.append(("external", handle_address(source, handle)))
    for identity_kind, identity_address in wanted:
        identity = (ContactIdentity.objects.filter(workspace_id=workspace_id, kind=identity_kind,
                                                   address=identity_address, contact__merged_into__isnull=True)
                    .select_related("contact").first())
        if identity is not None:
            return identity.contact
    return None


def channel_kind(channel: Channel, source: str) -> str:
    """How triage names where a post was seen: facebook, instagram, or social_api for a listening source."""
    return "social_api" if channel.kind == "api" else source


def verdict_for(channel: Channel, item: PublicItem) -> Verdict:
    from threadline.triage import triage_post
    from threadline.triage.verdict import PublicPost

    return triage_post(PublicPost(
        workspace_id=item.workspace_id, text=item.text, language=item.language or None,
        channel_kind=channel_kind(channel, item.source), author_handle=item.author_handle,
        author_reach=item.author_reach, known_customer=item.known_customer, is_reply=item.kind == "reply"))
