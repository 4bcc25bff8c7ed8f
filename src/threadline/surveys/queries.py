"""Survey reads: the workspace's survey settings and its answers (analytics.view)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation
from threadline.core.errors import NotFound
from threadline.surveys.models import ORDER, Survey, SurveyResponse, SurveySettings
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def list_responses(actor: Membership, *, kind: str | None = None, conversation_id: int | None = None
                   ) -> QuerySet[SurveyResponse]:
    require(actor, Permission.ANALYTICS)
    found = SurveyResponse.objects.filter(workspace_id=actor.workspace_id)
    if kind:
        found = found.filter(kind=kind)
    if conversation_id is not None:
        if not Conversation.objects.filter(pk=conversation_id, workspace_id=actor.workspace_id).exists():
            raise NotFound(_("No such conversation."), code="conversation_not_found")
        found = found.filter(conversation_id=conversation_id)
    return found


def surveys_of(actor: Membership) -> list[Survey | None]:
    """The workspace's survey of each kind (None where never saved), in the order they take precedence."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    saved = {s.kind: s for s in Survey.objects.filter(workspace_id=actor.workspace_id)}
    return [saved.get(kind) for kind in ORDER]


def settings_of(actor: Membership) -> SurveySettings | None:
    """The workspace's quiet hours for surveys (None: never set, no quiet hours)."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    return SurveySettings.objects.filter(workspace_id=actor.workspace_id).first()
