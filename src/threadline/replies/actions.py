"""Writes for templates and macros, applying a macro, and sending an automatic reply. Callers own the
transaction."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.conversations.actions import (
    check_send_allowed,
    check_text,
    queue_outbound,
    record_event,
    reply_target,
)
from threadline.conversations.actions import do_send_reply as send_agent_reply
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message
from threadline.core.errors import Conflict, ValidationFailed
from threadline.replies import changes, rendering
from threadline.replies.models import Macro, Template, TemplateVariant
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

MAX_VARIANTS = 50
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_variants(variants: list[dict[str, str]]) -> list[dict[str, str]]:
    if not variants or len(variants) > MAX_VARIANTS:
        raise ValidationFailed(_("A template needs 1 to 50 language variants."), code="invalid_variants",
                               field="variants")
    seen = set()
    clean = []
    for variant in variants:
        language = (variant.get("language") or "").strip().lower()
        if not language or language in seen:
            raise ValidationFailed(_("Each variant needs its own language."), code="invalid_variants",
                                   field="variants")
        seen.add(language)
        text = check_text(variant.get("text", ""))
        clean.append({"language": language, "subject": (variant.get("subject") or "")[:500], "text": text,
                      "html": variant.get("html") or ""})
    return clean


def check_shortcut(workspace: Workspace, template: Template | None, shortcut: str) -> str:
    """What the composer's `/` expands: lowercase letters, digits, `-` and `_` (a typed leading `/` is dropped),
    unique in the workspace; empty for none."""
    shortcut = (shortcut or "").strip().lstrip("/").lower()
    if not shortcut:
        return ""
    if not SHORTCUT.fullmatch(shortcut):
        raise ValidationFailed(_("A shortcut is up to 64 lowercase letters, digits, - or _, such as refund-policy."),
                               code="invalid_shortcut", field="shortcut")
    clash = Template.objects.filter(workspace=workspace, shortcut=shortcut).exclude(pk=template.pk if template else None)
    if clash.exists():
        raise Conflict(_("Another reply uses the shortcut /%(shortcut)s.") % {"shortcut": shortcut},
                       code="shortcut_exists", field="shortcut")
    return shortcut


def do_save_template(workspace: Workspace, template: Template | None, *, name: str, kind: str,
                     variants: list[dict[str, str]], shortcut: str = "", is_active: bool = True) -> Template:
    """Create or replace a template and all its variants (audited: `template.created` / `template.updated`)."""
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationFailed(_("A template needs a name."), code="invalid_name", field="name")
    if kind not in Template.Kind.values:
        raise ValidationFailed(_("Unknown template kind."), code="invalid_kind", field="kind")
    clean = check_variants(variants)
    clash = Template.objects.filter(workspace=workspace, name=name).exclude(pk=template.pk if template else None)
    if clash.exists():
        raise Conflict(_("A template with this name exists already."), code="template_exists", field="name")
    shortcut = check_shortcut(workspace, template, shortcut)
    created = template is None
    template = template or Template(workspace=workspace)
    template.name, template.kind, template.shortcut, template.is_active = name, kind, shortcut, is_active
    template.save()
    template.variants.all().delete()
    TemplateVariant.objects.bulk_create(
        TemplateVariant(workspace=workspace, template=template, **variant) for variant in clean)
    record_change("template.created" if created else "template.updated", template,
                  {"name": name, "kind": kind, "shortcut": shortcut, "languages": [v["language"] for v in clean]})
    return template


def check_template_ref(workspace: Workspace, template_id: int | None) -> Template | None:
    if template_id is None:
        return None
    template = Template.objects.filter(workspace=workspace, pk=template_id).first()
    if template is None:
        raise ValidationFailed(_("No such template."), code="invalid_template", field="template_id")
    return template


def do_save_macro(workspace: Workspace, macro: Macro | None, *, name: str, actions: list[dict[str, Any]],
                  template_id: int | None = None, description: str = "", is_active: bool = True) -> Macro:
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationFailed(_("A macro needs a name."), code="invalid_name", field="name")
    for index, action in enumerate(actions):
        if action.get("type") not in changes.CHANGE_TYPES:
            raise ValidationFailed(_("Unknown macro action %(t)s.") % {"t": action.get("type")},
                                   code="invalid_action", field=f"actions[{index}]")
        changes.check_change(workspace.pk, index, action, allow_me=True)
    template = check_template_ref(workspace, template_id)
    if not actions and template is None:
        raise ValidationFailed(_("A macro needs actions or a reply."), code="empty_macro", field="actions")
    if Macro.objects.filter(workspace=workspace, name=name).exclude(pk=macro.pk if macro else None).exists():
        raise Conflict(_("A macro with this name exists already."), code="macro_exists", field="name")
    created = macro is None
    macro = macro or Macro(workspace=workspace)
    macro.name, macro.actions, macro.template = name, actions, template
    macro.description, macro.is_active = description[:500], is_active
    macro.save()
    record_change("macro.created" if created else "macro.updated", macro,
                  {"name": name, "actions": [a.get("type") for a in actions], "template_id": template_id})
    return macro


def do_apply_macro(actor: Membership, conversation: Conversation, macro: Macro) -> Message | None:
    """The macro's reply (rendered in the conversation's language) is sent first, then its changes apply,
    all in the caller's transaction: if any step is refused, nothing happens."""
    require(actor, Permission.REPLY)
    if not macro.is_active:
        raise Conflict(_("This macro is switched off."), code="macro_inactive")
    message = None
    if macro.template is not None:
        rendered = rendering.render(macro.template, conversation, agent=actor)
        message = send_agent_reply(actor, conversation, rendered.text, html=rendered.html)
    changes.apply_changes(actor, conversation, macro.actions)
    record_event(conversation, "macro_applied", actor=actor, macro_id=macro.pk, name=macro.name)
    return message


def auto_response_suppressed(conversation: Conversation) -> bool:
    """True when the customer's latest message must never get an automatic answer: the channel marked it
    (`metadata["suppress_auto_response"]`: an auto-reply, a bounce, list or bulk mail, a suspected loop)."""
    latest = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .order_by("-created_at", "-id").values_list("metadata", flat=True).first()
    )
    return bool((latest or {}).get("suppress_auto_response"))


def do_send_automatic_reply(conversation: Conversation, template: Template) -> Message:
    """Send a template as a system message (an automation's acknowledgement or reminder).

    It is not an agent's answer: it does not count as the first response, and `message.created` carries
    `author_id=None`, so SLA clocks keep running.
    """
    rendered = rendering.render(template, conversation)
    text = check_text(rendered.text)
    channel, identity = reply_target(conversation, None)
    check_send_allowed(conversation, identity, channel)
    return queue_outbound(conversation, channel, identity, text, html=rendered.html, author_kind=AuthorKind.SYSTEM,
                          language=rendered.language, metadata={"template_id": template.pk})


def do_send_bot_message(conversation: Conversation, text: str, *, language: str = "",
                        choices: list[dict[str, str]] | None = None) -> Message:
    """Send the answer bot's turn (`author_kind=bot`) on the channel the customer last used, with the choices
    the channel renders natively (`metadata["choices"]`). Like an automatic reply, it is not an agent's
    answer: no first response, SLA clocks keep running. Raises ValidationFailed when the channel refuses."""
    text = check_text(text)
    channel, identity = reply_target(conversation, None)
    check_send_allowed(conversation, identity, channel)
    metadata: dict[str, Any] = {"choices": [{"id": str(c["id"])[:200], "label": str(c["label"])[:200]}
                                            for c in choices]} if choices else {}
    return queue_outbound(conversation, channel, identity, text, author_kind=AuthorKind.BOT, language=language,
                          metadata=metadata)


def do_delete_template(template: Template) -> None:
    """An admin deletes a template with its language variants. The caller holds the transaction and has checked the actor is an admin."""
    record_change("template.deleted", template, {"name": template.name})
    template.delete()


def do_delete_macro(macro: Macro) -> None:
    """An admin deletes a macro. The caller holds the transaction and has checked the actor is an admin."""
    record_change("macro.deleted", macro, {"name": macro.name})
    macro.delete()
