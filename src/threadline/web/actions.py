"""Writes of the agent workspace. Callers own the transaction (views open it).

Snoozing changes a conversation through `conversations.actions` (status, timeline, events) and adds only
what the workspace needs: the job that wakes it up.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pyotp
from django.utils.translation import gettext as _

from threadline.audit.actions import record_for_user
from threadline.conversations.actions import do_update_conversation, record_event
from threadline.conversations.models import Conversation, Direction, Message, Status
from threadline.core import crypto
from threadline.core.errors import Conflict, NotFound, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.tenancy.models import Membership, User
from threadline.tenancy.permissions import Permission, require
from threadline.web.events import AgentMentioned, ConversationSnoozed
from threadline.web.models import Mention, SavedView, TotpDevice, UiPreference
from threadline.web.tasks import unsnooze_task

FILTER_KEYS = {"status", "assignee", "team_id", "channel_id", "tag", "language", "priority", "mentions"}
LANGUAGES = ("en", "he", "fa", "th", "cs")
MAX_SNOOZE = dt.timedelta(days=365)
DEFAULT_LANGUAGE, DEFAULT_TIME_ZONE = "en", "UTC"  # tenancy.User's defaults: nobody chose them


# ── preferences ──────────────────────────────────────────────────────────────────────────────────────
def check_time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(_("%(v)s is not a time zone.") % {"v": value}, code="invalid_time_zone",
                               field="time_zone") from exc
    return value


def do_update_preferences(user: User, *, language: str | None = None, time_zone: str | None = None,
                          name: str | None = None) -> User:
    """An agent's own language, time zone and display name."""
    if language is not None:
        if language not in LANGUAGES:
            raise ValidationFailed(_("Unknown language %(v)s.") % {"v": language}, code="invalid_language",
                                   field="language")
        user.language = language
    if time_zone is not None:
        user.time_zone = check_time_zone(time_zone)
    if name is not None:
        user.name = name.strip()[:200]
    user.save(update_fields=["language", "time_zone", "name"])
    if language is not None or time_zone is not None:
        pref, _created = UiPreference.objects.get_or_create(user=user)
        pref.language_chosen = pref.language_chosen or language is not None
        pref.time_zone_chosen = pref.time_zone_chosen or time_zone is not None
        pref.save(update_fields=["language_chosen", "time_zone_chosen", "updated_at"])
    return user


def do_take_browser_defaults(user: User, *, language: str | None = None, time_zone: str = "") -> bool:
    """The browser's language (Accept-Language; "" when it offers none of ours) and time zone (what `Intl`
    reports), taken once for a person who has not chosen their own and still has the installation's defaults.
    True when something changed."""
    pref, _created = UiPreference.objects.get_or_create(user=user)
    changed = False
    if language is not None and not pref.language_chosen:
        pref.language_chosen = True
        if language in LANGUAGES and user.language == DEFAULT_LANGUAGE and language != user.language:
            user.language, changed = language, True
    if time_zone and not pref.time_zone_chosen:
        pref.time_zone_chosen = True
        if user.time_zone == DEFAULT_TIME_ZONE and time_zone != user.time_zone:
            user.time_zone, changed = check_time_zone(time_zone), True
    pref.save(update_fields=["language_chosen", "time_zone_chosen", "updated_at"])
    if changed:
        user.save(update_fields=["language", "time_zone"])
    return changed


def ui_preference(user: User) -> UiPreference:
    """The person's display preferences (defaults until they change one; nothing is stored for reading)."""
    pref = UiPreference.objects.filter(user=user).first()
    return pref or UiPreference(user=user)


def do_set_ui_preference(user: User, *, density: str | None = None, contact_panel: str | None = None) -> UiPreference:
    pref, _created = UiPreference.objects.get_or_create(user=user)
    if density is not None:
        if density not in UiPreference.Density.values:
            raise ValidationFailed(_("Unknown density %(v)s.") % {"v": density}, code="invalid_density",
                                   field="density")
        pref.density = density
    if contact_panel is not None:
        if contact_panel not in UiPreference.Panel.values:
            raise ValidationFailed(_("Unknown panel state %(v)s.") % {"v": contact_panel}, code="invalid_panel",
                                   field="contact_panel")
        pref.contact_panel = contact_panel
    pref.save()
    return pref


# ── saved views ──────────────────────────────────────────────────────────────────────────────────────
def check_view(name: str, filters: dict[str, Any], sort: str) -> tuple[str, dict[str, Any], str]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("A view needs a name of at most 100 characters."), code="invalid_name", field="name")
    if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
        raise ValidationFailed(_("Unknown filters."), code="invalid_filters", field="filters")
    clean = {k: v for k, v in filters.items() if v not in (None, "", [])}
    if sort not in SavedView.Sort.values:
        raise ValidationFailed(_("Unknown sort order."), code="invalid_sort", field="sort")
    return name, clean, sort


def do_save_view(actor: Membership, *, name: str, filters: dict[str, Any], sort: str = SavedView.Sort.NEWEST,
                 shared: bool = False, view: SavedView | None = None) -> SavedView:
    name, filters, sort = check_view(name, filters, sort)
    if view is None:
        view = SavedView(workspace_id=actor.workspace_id, owner=actor)
    elif view.owner_id != actor.pk:
        raise NotFound(_("No such view."), code="view_not_found")
    view.name, view.filters, view.sort, view.shared = name, filters, sort, shared
    view.save()
    return view


def do_delete_view(actor: Membership, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise NotFound(_("No such view."), code="view_not_found")
    view.delete()


# ── mentions ─────────────────────────────────────────────────────────────────────────────────────────
def mentioned_agents(workspace_id: int, text: str) -> list[Membership]:
    """Agents named in `text` as @Full Name or @email (case-insensitive, whole words)."""
    found = []
    lowered = text.casefold()
    for agent in Membership.objects.filter(workspace_id=workspace_id, is_active=True).select_related("user"):
        handles = [h for h in (agent.user.name.strip(), agent.user.email) if h]
        for handle in handles:
            if re.search(r"(?<![\w@])@" + re.escape(handle.casefold()) + r"(?!\w)", lowered):
                found.append(agent)
                break
    return found


def do_record_mentions(note: Message) -> list[Mention]:
    """A Mention (and an `agent.mentioned` event for notifications) per agent named in an internal note."""
    rows = []
    for agent in mentioned_agents(note.workspace_id, note.text):
        if agent.pk == note.author_membership_id:
            continue
        mention, created = Mention.objects.get_or_create(
            message=note, membership=agent,
            defaults={"workspace_id": note.workspace_id, "conversation_id": note.conversation_id,
                      "author_id": note.author_membership_id},
        )
        if created:
            rows.append(mention)
            publish(AgentMentioned(workspace_id=note.workspace_id, membership_id=agent.pk,
                                   author_id=note.author_membership_id, conversation_id=note.conversation_id,
                                   message_id=note.pk, text=note.text[:300]))
    return rows


def do_mark_mentions_read(actor: Membership, conversation: Conversation) -> int:
    return Mention.objects.filter(membership=actor, conversation=conversation, read_at__isnull=True).update(read_at=now())


# ── collision detection ──────────────────────────────────────────────────────────────────────────────
def check_no_reply_since(actor: Membership, conversation: Conversation, seen_message_id: int | None) -> None:
    """Conflict `replied_meanwhile` when someone else replied after the last message this agent had seen."""
    if seen_message_id is None:
        return
    newer = (Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND, is_note=False,
                                    pk__gt=seen_message_id).exclude(author_membership=actor)
             .select_related("author_membership__user").order_by("pk").first())
    if newer is not None:
        who = newer.author_membership.user.name if newer.author_membership else _("Someone")
        raise Conflict(_("%(name)s replied while you were writing.") % {"name": who or _("Someone")},
                       code="replied_meanwhile")


# ── snooze and split ─────────────────────────────────────────────────────────────────────────────────
def check_snooze_until(until: dt.datetime) -> dt.datetime:
    if until.tzinfo is None:
        raise ValidationFailed(_("The time needs a time zone."), code="invalid_time", field="until")
    if until <= now() or until - now() > MAX_SNOOZE:
        raise ValidationFailed(_("Snooze until a time in the coming year."), code="invalid_time", field="until")
    return until


def do_snooze(actor: Membership, conversation: Conversation, until: dt.datetime) -> Conversation:
    """Set the conversation pending until `until`; a job reopens it then unless it changed meanwhile."""
    require(actor, Permission.ASSIGN)
    until = check_snooze_until(until)
    do_update_conversation(actor, conversation, status=Status.PENDING)
    stamp = until.isoformat()
    record_event(conversation, "snoozed", actor=actor, until=stamp)
    unsnooze_task.enqueue(conversation.pk, stamp, run_after=until)
    publish(ConversationSnoozed(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                until=stamp, actor_id=actor.pk))
    return conversation


def do_wake(conversation: Conversation, stamp: str) -> bool:
    """Reopen a snoozed conversation if its latest snooze is `stamp` and it is still pending."""
    latest = conversation.events.filter(kind="snoozed").order_by("-created_at", "-id").first()
    if latest is None or latest.data.get("until") != stamp or conversation.status != Status.PENDING:
        return False
    do_update_conversation(None, conversation, status=Status.OPEN)
    record_event(conversation, "unsnoozed", until=stamp)
    return True


# ── two-factor sign-in ───────────────────────────────────────────────────────────────────────────────
def do_start_totp(user: User) -> str:
    """A new, unconfirmed TOTP secret for `user` (replacing an unconfirmed one); returns the secret."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed_at:
        raise Conflict(_("Two-factor sign-in is already on."), code="totp_enabled")
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(user=user, defaults={"secret_encrypted": crypto.encrypt_json({"s": secret}),
                                                             "confirmed_at": None, "last_step": 0})
    return secret


def totp_secret(device: TotpDevice) -> str:
    return str(crypto.decrypt_json(device.secret_encrypted)["s"])


def check_totp(device: TotpDevice, code: str) -> int:
    """The time step `code` belongs to (the current one or a neighbour); ValidationFailed when wrong or reused."""
    code = re.sub(r"\s", "", code or "")
    totp = pyotp.TOTP(totp_secret(device))
    moment = now()
    for offset in (0, -1, 1):
        at = moment + dt.timedelta(seconds=offset * totp.interval)
        if code.isdigit() and len(code) == totp.digits and crypto.constant_time_equals(totp.at(at), code):
            step = totp.timecode(at)
            if step <= device.last_step:
                break
            return step
    raise ValidationFailed(_("That code is not valid. Try the current one."), code="invalid_totp", field="code")


def do_verify_totp(device: TotpDevice, code: str) -> TotpDevice:
    """Accept a code once: confirms a new device, and remembers the step so the same code cannot sign in twice."""
    device.last_step = check_totp(device, code)
    if device.confirmed_at is None:
        device.confirmed_at = now()
        record_for_user(device.user, "2fa.enabled")
    device.save(update_fields=["last_step", "confirmed_at", "updated_at"])
    return device


def do_disable_totp(user: User, code: str) -> None:
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return
    check_totp(device, code)
    device.delete()
    record_for_user(user, "2fa.disabled")
