"""The agent workspace's pages, fragments and actions.

Pages (`/app/`, `/app/c/<id>/`, `/app/search`, `/app/settings`) render completely on the server, so links
work without JavaScript; the page's ES modules then load fragments (`/app/x/...`) to switch views and
conversations without reloads, and post actions with `X-Requested-With: fetch` to get JSON back. Without
that header an action redirects back to the conversation. Views only parse, look up through `access_*`,
open the transaction and call actions.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pyotp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET, require_POST

from threadline.analytics.queries import firing_alert_count
from threadline.channels.queries import access_channel, attention_count
from threadline.contacts.merge import (
    do_accept_suggestion,
    do_dismiss_suggestion,
    do_merge_contacts,
    do_unmerge_contacts,
)
from threadline.contacts.preferred import REGIONAL, STATED, preferences
from threadline.contacts.queries import access_contact, access_merge, access_suggestion
from threadline.conversations.actions import (
    UNSET,
    do_add_note,
    do_merge_conversations,
    do_send_reply,
    do_update_conversation,
)
from threadline.conversations.attachments import attachment_response
from threadline.conversations.models import Priority, Status
from threadline.conversations.queries import (
    access_attachment,
    access_conversation,
    access_message,
    pending_scheduled_replies,
)
from threadline.conversations.reachability import reachable_channels
from threadline.conversations.splitting import do_split_message
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, RateLimited, ValidationFailed
from threadline.core.throttle import SECOND_FACTOR
from threadline.crisis.queries import open_count
from threadline.events.models import OutboxEvent
from threadline.outreach import queries as outreach_queries
from threadline.outreach.reach import OUTREACH_KINDS
from threadline.realtime import presence
from threadline.realtime.auth import SESSION_WORKSPACE
from threadline.realtime.dispatch import send_to_group
from threadline.realtime.groups import workspace_group
from threadline.replies.models import Template
from threadline.replies.queries import list_macros
from threadline.replies.rendering import render as render_template
from threadline.routing.actions import do_set_presence, do_take_default_presence, profile_of
from threadline.tenancy.actions import do_set_default_workspace
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, has_permission, require
from threadline.tenancy.queries import access_agent, access_team, list_agents
from threadline.tenancy.signin import upgrade_to_second_factor
from threadline.translation.actions import do_send_translated_reply, preview_reply
from threadline.translation.queries import (
    agent_language,
    agent_languages,
    composer_translation,
    timeline_translations,
)
from threadline.web import actions, queries
from threadline.web.admin_nav import sections_for
from threadline.web.models import SavedView, TotpDevice, UiPreference
from threadline.web.moments import moment_from, preset_times
from threadline.web.session import agent_view, wants_json

MAX_FILES = 10
BULK_LIMIT = 200


ADMIN_SCREEN = re.compile(r"/app/admin/[a-z-]*")


def _done(request: HttpRequest, body: dict[str, Any], back: str) -> HttpResponse:
    return JsonResponse(body) if wants_json(request) else redirect(back)


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("%(field)s must be a number.") % {"field": field}, code="invalid_id",
                               field=field) from exc


def _optional_int(value: Any, field: str) -> int | None:
    return None if value in (None, "") else _int(value, field)


def last_event_id(workspace_id: int) -> int:
    row = OutboxEvent.objects.filter(workspace_id=workspace_id).order_by("-pk").values("pk").first()
    return row["pk"] if row else 0


def agents_json(agent: Membership) -> list[dict[str, Any]]:
    agents = list(list_agents(agent).filter(is_active=True))
    statuses = presence.agent_statuses([a.pk for a in agents])
    return [{"id": a.pk, "name": a.user.name or a.user.email, "email": a.user.email, "role": a.role,
             "status": statuses[a.pk]} for a in agents]


def boot(agent: Membership) -> dict[str, Any]:
    """What the page's scripts start from."""
    user = agent.user
    return {
        "membership_id": agent.pk, "workspace_id": agent.workspace_id, "language": user.language,
        "report_time_zone": not actions.ui_preference(user).time_zone_chosen,
        "time_zone": user.time_zone, "last_event_id": last_event_id(agent.workspace_id),
        "agents": agents_json(agent), "status": presence.agent_status(agent.pk),
    }


def strings() -> dict[str, str]:
    """Strings the page's scripts show, in the agent's language."""
    return {
        "new_conversation": _("New conversation"), "new_message": _("New message"),
        "alert_fired": _("Alert: %(name)s"), "alert_body": _("%(value)s, past the threshold of %(threshold)s"),
        "mentioned": _("%(name)s mentioned you"), "typing": _("%(names)s typing…"),
        "customer_typing": _("The customer is typing…"), "viewing": _("Also here: %(names)s"),
        "replied_meanwhile": _("%(name)s replied while you were writing."), "send_anyway": _("Send anyway"),
        "reconnecting": _("Connection lost. Reconnecting…"), "saved": _("Saved"),
        "draft_restored": _("Draft restored"), "failed": _("Something went wrong. Try again."),
        "notifications_on": _("Desktop notifications are on"), "confirm_merge": _("Merge these?"),
        "selected": _("%(n)s selected"), "now": _("now"),
        "sla_due": _("due in %(duration)s"), "sla_overdue": _("overdue by %(duration)s"),
        "load_more": _("Load more"), "loading": _("Loading…"), "remove": _("Remove"),
        "scheduled": _("Reply scheduled"),
    }


def browser_language(request: HttpRequest) -> str:
    """The best of the workspace's languages in the browser's Accept-Language ("" when none fits)."""
    for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        code = tag.split("-")[0].lower()
        if code in actions.LANGUAGES:
            return code
    return ""


def _page(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    agent: Membership = request.agent  # type: ignore[attr-defined]
    pref = ui_of(agent)
    if not pref.language_chosen:
        with transaction.atomic():
            changed = actions.do_take_browser_defaults(agent.user, language=browser_language(request))
        if changed:  # first visit: the page again, in the browser's language
            response = redirect(request.get_full_path())
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, agent.user.language, samesite="Lax")
            return response
    with transaction.atomic():
        do_take_default_presence(agent)
    spec = queries.spec_from(request.GET, agent)
    rows, more = queries.list_page(agent, spec, request.GET.get("after", ""))
    context: dict[str, Any] = {
        "agent": agent, "spec": spec, "rows": rows, "more": more, "after": request.GET.get("after", ""),
        "views": queries.VIEWS, "ui": ui_of(agent), "sorts": SavedView.Sort.choices,
        "counts": queries.counts(agent), "side": queries.sidebar(agent), "boot": boot(agent), "strings": strings(),
        "languages": settings.LANGUAGES, "presence_choices": presence.CHOICES, "query": spec.query(),
        "attention": attention_count(agent), "alerts_firing": firing_alert_count(agent),
        "crises_open": open_count(agent.workspace_id),
    }
    if conversation_id is not None:
        context.update(conversation_context(agent, access_conversation(agent, conversation_id),
                                            request.GET.get("merge_q", ""), teams=context["side"]["teams"],
                                            ui=context["ui"]))
    return render(request, "web/app.html", context)


@require_GET
@agent_view
def app_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    if not has_permission(agent, Permission.VIEW) and sections_for(agent):
        return redirect("/app/admin/")  # a role that administers but sees no conversations starts there
    return _page(request)


@require_GET
@agent_view
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _page(request, conversation_id)


@require_GET
@agent_view
def list_fragment(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    spec = queries.spec_from(request.GET, agent)
    after = request.GET.get("after", "")
    rows, more = queries.list_page(agent, spec, after)
    context = {"rows": rows, "more": more, "after": after, "spec": spec, "query": spec.query(), "agent": agent,
               "ui": ui_of(agent), "sorts": SavedView.Sort.choices}
    return render(request, "web/_rows.html" if after else "web/_list.html", context)


@require_GET
@agent_view
def counts_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"counts": queries.counts(request.agent)})  # type: ignore[attr-defined]


def conversation_context(agent: Membership, conversation: Any, merge_query: str = "", *,
                         teams: list[Any] | None = None, ui: UiPreference | None = None) -> dict[str, Any]:
    """Everything the conversation screen shows, in a fixed number of statements: what two panels both need
    (the workspace's channels, its agents, the agent's languages, the custom fields) is read once and handed
    to each (docs/performance.md, "The conversation screen's statements"). The whole page passes the
    sidebar's `teams` and its `ui` preference, which it has read already."""
    members = list(list_agents(agent))
    channels = queries.channels_of(agent.workspace_id)
    items, earlier = queries.timeline(agent, conversation, names=queries.names_of(members), channels=channels)
    last_seen = max((i.message.pk for i in items if i.message is not None), default=0)
    reach = reachable_channels(conversation, channels=channels)
    spoken = agent_languages(agent)
    fields = queries.fields_by_target(agent.workspace_id)
    return {
        "translations": timeline_translations(agent, [i.message for i in items if i.message is not None],
                                              spoken=spoken),
        "mt": composer_translation(agent, conversation, spoken=spoken),
        "conversation": conversation, "items": items, "earlier": earlier, "last_message_id": last_seen,
        "reach": reach, "reply_on": preselected_channel(reach, preferred_kinds(conversation)),
        "ui": ui or ui_of(agent), "channel_kinds": OUTREACH_KINDS,
        "can_reply": has_permission(agent, Permission.REPLY),
        "panel": queries.contact_panel(agent, conversation, merge_query, contact_fields=fields["contact"]),
        "custom_field_definitions": fields,
        "statuses": Status.choices, "priorities": Priority.choices,
        "agents": [m for m in members if m.is_active],
        "teams": teams if teams is not None else queries.teams_of(agent.workspace_id),
        "tags": ", ".join(tag.name for tag in conversation.tags.all()),  # prefetched with the conversation
        "canned": Template.objects.filter(workspace_id=agent.workspace_id, kind=Template.Kind.CANNED,
                                          is_active=True).order_by("name")[:100],
        "viewers": presence.viewers(conversation.pk), "customer_online": presence.contact_online(conversation.contact_id),
        "snooze_default": (timezone.localtime() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "presets": preset_times(), "scheduled": pending_scheduled_replies(agent, conversation),
        "macros": list_macros(agent).filter(is_active=True).order_by("name")[:50],
    }


def preferred_kinds(conversation: Any) -> list[tuple[str, str]]:
    """The contact's preferred channel kinds (stated, then their region's default), contacts/preferred.py."""
    contact = conversation.contact
    return preferences(contact, contact.identities.all(),
                       region_defaults=outreach_queries.region_defaults(conversation.workspace_id))


def preselected_channel(reach: list[Any], preferred: list[tuple[str, str]] | None = None) -> int | None:
    """The channel "Reply on" starts with: the contact's stated preferred channel when it can deliver, else the
    default (the one they last wrote on) when it can, else their region's default channel, else the first that
    can; never one that cannot (the agent would write a reply that fails)."""
    ready = [o for o in reach if o.reachable]
    kinds = dict((kind, why) for kind, why in reversed(preferred or []))
    stated = [o for o in ready if kinds.get(o.kind) == STATED]
    regional = [o for o in ready if kinds.get(o.kind) == REGIONAL]
    choices = [*stated, *[o for o in ready if o.is_default], *regional, *ready]
    return int(choices[0].channel_id) if choices else None


def ui_of(agent: Membership) -> UiPreference:
    return actions.ui_preference(agent.user)


@require_GET
@agent_view
def conversation_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    conversation = access_conversation(agent, conversation_id)
    return render(request, "web/_conversation.html", {"agent": agent, **conversation_context(agent, conversation)})


@require_GET
@agent_view
def timeline_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    conversation = access_conversation(agent, conversation_id)
    items, earlier = queries.timeline(agent, conversation, request.GET.get("before", ""))
    return render(request, "web/_timeline.html", {
        "translations": timeline_translations(agent, [i.message for i in items if i.message is not None]),
        "agent": agent, "conversation": conversation, "items": items, "earlier": earlier,
        "reach": reachable_channels(conversation), "can_reply": has_permission(agent, Permission.REPLY)})


# ── conversation actions ─────────────────────────────────────────────────────────────────────────────
def _back(conversation_id: int) -> str:
    return f"/app/c/{conversation_id}/"


@require_POST
@agent_view
def reply_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    files = request.FILES.getlist("files")
    if len(files) > MAX_FILES:
        raise ValidationFailed(_("At most %(n)d files at once.") % {"n": MAX_FILES}, code="too_many_files")
    attachments = [(f.name or "file", f.content_type or "", f.read()) for f in files]
    text = request.POST.get("text", "")
    # "Translate before sending": the provider is called before the transaction (no lock held while it works)
    translated = (preview_reply(agent, access_conversation(agent, conversation_id), text)
                  if request.POST.get("translate") == "1" else None)
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        channel_id = _optional_int(request.POST.get("channel_id"), "channel_id")
        channel = access_channel(agent, channel_id) if channel_id else None
        if request.POST.get("force") != "1":
            actions.check_no_reply_since(agent, conversation,
                                         _optional_int(request.POST.get("seen_message_id"), "seen_message_id"))
        if translated is not None:
            message = do_send_translated_reply(agent, conversation, text, translated, channel=channel,
                                               attachments=attachments)
        else:
            message = do_send_reply(agent, conversation, text, channel=channel, attachments=attachments)
    return _done(request, {"message_id": message.pk, "status": message.status}, _back(conversation_id))


@require_POST
@agent_view
def note_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        note = do_add_note(agent, conversation, request.POST.get("text", ""))
        mentions = actions.do_record_mentions(note)
    return _done(request, {"message_id": note.pk, "mentioned": [m.membership_id for m in mentions]},
                 _back(conversation_id))


def _assignee(agent: Membership, value: str | None) -> Any:
    if value is None:
        return UNSET
    if value in ("", "none"):
        return None
    if value == "me":
        return agent
    return access_agent(agent, _int(value, "assignee"))


def _team(agent: Membership, value: str | None) -> Any:
    if value is None:
        return UNSET
    if value in ("", "none"):
        return None
    return access_team(agent, _int(value, "team"))


def _changes(agent: Membership, data: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "status": data.get("status") or None, "priority": data.get("priority") or None,
        "assignee": _assignee(agent, data.get("assignee")), "team": _team(agent, data.get("team")),
    }
    if data.get("tags") is not None:
        changes["tags"] = [t.strip() for t in data.get("tags", "").split(",") if t.strip()]
    return changes


@require_POST
@agent_view
def update_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        do_update_conversation(agent, conversation, **_changes(agent, request.POST))
    return _done(request, {"status": conversation.status, "assignee_id": conversation.assignee_id,
                           "priority": conversation.priority}, _back(conversation_id))


SNOOZE_PRESETS = {"1h": dt.timedelta(hours=1), "3h": dt.timedelta(hours=3), "1d": dt.timedelta(days=1),
                  "1w": dt.timedelta(days=7)}


def _snooze_until(value: str) -> dt.datetime:
    """A fixed delay (1h, 3h, 1d, 1w), a preset in the agent's time zone (later_today, tomorrow, next_week),
    or a local date-time in the agent's time zone (`2026-05-01T09:00`)."""
    if value in SNOOZE_PRESETS:
        return timezone.now() + SNOOZE_PRESETS[value]
    return moment_from(value, "until")


@require_POST
@agent_view
def snooze_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)  # before reading the form: a refusal is a 403 whatever was sent
    until = _snooze_until(request.POST.get("until", ""))
    with transaction.atomic():
        conversation = access_conversation(agent, conversation_id)
        actions.do_snooze(agent, conversation, until)
    return _done(request, {"status": conversation.status, "until": until.isoformat()}, _back(conversation_id))


@require_POST
@agent_view
def merge_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Merge this conversation into the one numbered `into`."""
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)  # before reading the form: a refusal is a 403 whatever was sent
    with transaction.atomic():
        source = access_conversation(agent, conversation_id)
        target = access_conversation(agent, _int(request.POST.get("into", "").lstrip("#"), "into"))
        do_merge_conversations(agent, source, target)
    return _done(request, {"conversation_id": target.pk}, _back(target.pk))


@require_POST
@agent_view
def split_view(request: HttpRequest, message_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        message = access_message(agent, message_id)
        target = do_split_message(agent, message)
    return _done(request, {"conversation_id": target.pk}, _back(target.pk))


@require_GET
@agent_view
def attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = access_attachment(request.agent, attachment_id)  # type: ignore[attr-defined]
    return attachment_response(attachment, inline_images=True)


@require_POST
@agent_view
def seen_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        read = actions.do_mark_mentions_read(agent, access_conversation(agent, conversation_id))
    return JsonResponse({"mentions_read": read})


@require_GET
@agent_view
def canned_view(request: HttpRequest, conversation_id: int, template_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    conversation = access_conversation(agent, conversation_id)
    template = Template.objects.filter(workspace_id=agent.workspace_id, pk=template_id, is_active=True).first()
    if template is None:
        raise NotFound(_("No such canned reply."), code="template_not_found")
    channel_id = _optional_int(request.GET.get("channel_id"), "channel_id")
    kind = access_channel(agent, channel_id).kind if channel_id else None
    rendered = render_template(template, conversation, agent=agent, channel_kind=kind)
    return JsonResponse({"text": rendered.text, "language": rendered.language, "fallback": rendered.fallback})


BULK_ACTIONS = ("assign_me", "unassign", "status", "priority", "add_tag")


@require_POST
@agent_view
def bulk_view(request: HttpRequest) -> HttpResponse:
    """One change to many conversations, all or nothing."""
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.ASSIGN)  # before reading the form: a refusal is a 403 whatever was sent
    action, value = request.POST.get("action", ""), request.POST.get("value", "")
    ids = [_int(v, "ids") for v in request.POST.getlist("ids")][:BULK_LIMIT]
    if action not in BULK_ACTIONS or not ids:
        raise ValidationFailed(_("Choose conversations and an action."), code="invalid_bulk")
    with transaction.atomic():
        for conversation_id in ids:
            conversation = access_conversation(agent, conversation_id)
            if action == "assign_me":
                do_update_conversation(agent, conversation, assignee=agent)
            elif action == "unassign":
                do_update_conversation(agent, conversation, assignee=None)
            elif action == "status":
                do_update_conversation(agent, conversation, status=value)
            elif action == "priority":
                do_update_conversation(agent, conversation, priority=value)
            elif action == "add_tag" and value.strip():
                names = list(conversation.tags.values_list("name", flat=True))
                do_update_conversation(agent, conversation, tags=[*names, value.strip()])
    return _done(request, {"updated": len(ids)}, "/app/")


# ── contacts ─────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@agent_view
def merge_candidates_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Contacts matching `q` that could be merged into this one (the panel's search box)."""
    agent = request.agent  # type: ignore[attr-defined]
    contact = access_contact(agent, contact_id)
    back = request.GET.get("back", "/app/")
    return render(request, "web/_merge_results.html", {
        "target": contact, "results": queries.merge_candidates(agent, contact, request.GET.get("q", "")),
        "query": request.GET.get("q", ""), "back": back if back.startswith("/app/") else "/app/"})


@require_POST
@agent_view
def contact_merge_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Merge the contact `source` into this one."""
    agent = request.agent  # type: ignore[attr-defined]
    require(agent, Permission.MERGE)  # before reading the form: a refusal is a 403 whatever was sent
    back = request.POST.get("back", "/app/")
    with transaction.atomic():
        target = access_contact(agent, contact_id)
        source = access_contact(agent, _int(request.POST.get("source"), "source"))
        merge = do_merge_contacts(agent, source, target)
    return _done(request, {"merge_id": merge.pk}, back if back.startswith("/app/") else "/app/")


@require_POST
@agent_view
def unmerge_view(request: HttpRequest, merge_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    back = request.POST.get("back", "/app/")
    with transaction.atomic():
        merge = do_unmerge_contacts(agent, access_merge(agent, merge_id))
    return _done(request, {"merge_id": merge.pk}, back if back.startswith("/app/") else "/app/")


@require_POST
@agent_view
def suggestion_view(request: HttpRequest, suggestion_id: int, decision: str) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    back = request.POST.get("back", "/app/")
    if decision not in ("accept", "dismiss"):
        raise NotFound(_("No such decision."), code="not_found")
    with transaction.atomic():
        suggestion = access_suggestion(agent, suggestion_id)
        if decision == "accept":
            target_id = _optional_int(request.POST.get("target"), "target")
            do_accept_suggestion(agent, suggestion, target=access_contact(agent, target_id) if target_id else None)
        else:
            do_dismiss_suggestion(agent, suggestion)
    return _done(request, {"state": decision}, back if back.startswith("/app/") else "/app/")


# ── views, presence, preferences, search ─────────────────────────────────────────────────────────────
@require_POST
@agent_view
def save_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    spec = queries.spec_from(request.POST, agent)
    filters = {"status": list(spec.statuses), "assignee": spec.assignee, "team_id": spec.team_id,
               "channel_id": spec.channel_id, "tag": spec.tag, "language": spec.language, "priority": spec.priority,
               "mentions": spec.mentions}
    with transaction.atomic():
        view = actions.do_save_view(agent, name=request.POST.get("name", ""), filters=filters,
                                    sort=request.POST.get("sort") or spec.sort, shared=request.POST.get("shared") == "1")
    return _done(request, {"id": view.pk}, f"/app/?saved={view.pk}")


@require_POST
@agent_view
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        view = queries.access_saved_view(agent, view_id)
        if view is None:
            raise NotFound(_("No such view."), code="view_not_found")
        actions.do_delete_view(agent, view)
    return _done(request, {"deleted": view_id}, "/app/")


@require_POST
@agent_view
def presence_view(request: HttpRequest) -> HttpResponse:
    """The agent picks online, away or offline: shown to colleagues and used by routing."""
    agent = request.agent  # type: ignore[attr-defined]
    status = request.POST.get("status", "")
    if status not in presence.CHOICES:
        raise ValidationFailed(_("Unknown presence %(p)s.") % {"p": status}, code="invalid_presence", field="status")
    with transaction.atomic():
        do_set_presence(profile_of(agent), status)
    shown = presence.set_agent_choice(agent.pk, status)
    send_to_group(workspace_group(agent.workspace_id),
                  {"type": "presence.changed", "membership_id": agent.pk, "status": shown})
    return _done(request, {"status": shown}, "/app/")


@require_POST
@agent_view
def preferences_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        user = actions.do_update_preferences(
            agent.user, language=request.POST.get("language") or None,
            time_zone=request.POST.get("time_zone") or None, name=request.POST.get("name"),
        )
    back = request.POST.get("back") or "/app/"
    response = _done(request, {"language": user.language, "time_zone": user.time_zone},
                     back if back.startswith("/app/") else "/app/")
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
    return response


@require_POST
@agent_view
def browser_defaults_view(request: HttpRequest) -> HttpResponse:
    """The page reports the browser's time zone once (`Intl`); kept unless the person chose their own."""
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        changed = actions.do_take_browser_defaults(agent.user, time_zone=request.POST.get("time_zone", "")[:64])
    return JsonResponse({"changed": changed, "time_zone": agent.user.time_zone, "language": agent.user.language})


@require_POST
@agent_view
def ui_preferences_view(request: HttpRequest) -> HttpResponse:
    """The agent's list density and contact panel (open or folded), remembered across devices."""
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        pref = actions.do_set_ui_preference(agent.user, density=request.POST.get("density") or None,
                                            contact_panel=request.POST.get("contact_panel") or None)
    back = request.POST.get("back") or "/app/"
    return _done(request, {"density": pref.density, "contact_panel": pref.contact_panel},
                 back if back.startswith("/app/") else "/app/")


@require_POST
@agent_view
def workspace_switch_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    wanted = _int(request.POST.get("workspace"), "workspace")
    if not Membership.objects.filter(user=agent.user, workspace_id=wanted, is_active=True).exists():
        raise NotFound(_("No such workspace."), code="workspace_not_found")
    request.session[SESSION_WORKSPACE] = wanted
    with transaction.atomic():  # the next sign-in opens it too
        do_set_default_workspace(agent.user, Workspace.objects.get(pk=wanted))
    back = request.POST.get("back", "")
    return redirect(back if ADMIN_SCREEN.fullmatch(back) else "/app/")  # the same screen of the other workspace


@require_GET
@agent_view
def search_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    results = queries.search(agent, request.GET.get("q", ""))
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "web/_search.html", results)
    spec = queries.spec_from({}, agent)
    return render(request, "web/app.html", {
        "agent": agent, "spec": spec, "rows": [], "views": queries.VIEWS, "counts": queries.counts(agent),
        "side": queries.sidebar(agent), "boot": boot(agent), "strings": strings(), "languages": settings.LANGUAGES,
        "presence_choices": presence.CHOICES, "search": results, "query": {}, "ui": ui_of(agent),
    })


@agent_view
def settings_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    user = agent.user
    context: dict[str, Any] = {"agent": agent, "languages": settings.LANGUAGES,
                               "time_zones": sorted(zoneinfo.available_timezones()),
                               "reads": agent_languages(agent), "reads_into": agent_language(agent)}
    device = TotpDevice.objects.filter(user=user).first()
    status = 200
    if request.method == "POST":
        step = request.POST.get("totp")
        client = client_address(request)
        wait = SECOND_FACTOR.retry_after(str(user.pk), client) if step in ("confirm", "disable") else 0
        try:
            if wait:
                raise RateLimited(_("Too many attempts. Wait a few minutes and try again."), retry_after=wait)
            with transaction.atomic():
                if step == "start":
                    actions.do_start_totp(user)
                elif step == "confirm" and device is not None:
                    actions.do_verify_totp(device, request.POST.get("code", ""))
                    upgrade_to_second_factor(request.session)  # this session just passed it
                    context["message"] = _("Two-factor sign-in is on.")
                elif step == "disable":
                    actions.do_disable_totp(user, request.POST.get("code", ""))
                    context["message"] = _("Two-factor sign-in is off.")
        except RateLimited as exc:
            context["error"], status = exc.message, exc.status
        except ValidationFailed as exc:
            SECOND_FACTOR.failed(str(user.pk), client)
            context["error"] = exc.message
        device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed_at is None:
        secret = actions.totp_secret(device)
        context["totp_secret"] = secret
        context["totp_uri"] = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Threadline")
    context["totp_on"] = device is not None and device.confirmed_at is not None
    return render(request, "web/settings.html", context, status=status)
