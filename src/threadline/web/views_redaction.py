"""The timeline's Redact button (admins and agents): a substring or an attachment of a message, removed from
every copy. The rules are the redaction domain's; this view only parses and looks up."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from threadline.conversations.queries import access_message
from threadline.redaction import actions
from threadline.web.session import agent_view
from threadline.web.views import _done, _optional_int


@require_POST
@agent_view
def redact_view(request: HttpRequest, message_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    text = request.POST.get("text") or None
    attachment_id = _optional_int(request.POST.get("attachment_id") or None, "attachment_id")
    with transaction.atomic():
        message = access_message(agent, message_id)
        text, attachment = actions.check_redaction(agent, message, text, attachment_id)
        copies = actions.do_redact_message(agent, message, text=text, attachment=attachment)
    return _done(request, {"message_id": message.pk, "copies": copies}, f"/app/c/{message.conversation_id}/")
