"""The crisis alert mail: one message per member who sees reports (analytics.view), in their language."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.core import mail
from threadline.crisis.models import Crisis
from threadline.jobs.registry import task
from threadline.tenancy.models import Workspace
from threadline.tenancy.permissions import Permission, holders

logger = logging.getLogger(__name__)


def crisis_text(crisis: Crisis, workspace: Workspace) -> tuple[str, str]:
    from threadline.crisis.queries import describe

    values = {"workspace": workspace.name, "what": describe(crisis), "url": f"{settings.PUBLIC_URL}/app/crisis/{crisis.pk}",
              "when": crisis.opened_at.strftime("%Y-%m-%d %H:%M UTC")}
    subject = _("Possible crisis: %(what)s (%(workspace)s)") % values
    body = _("%(what)s\n\nDetected at %(when)s in %(workspace)s. The crisis room lists the mentions and lets you "
             "switch on a holding reply and a notice in the chat widget and the help center:\n%(url)s\n") % values
    return subject, body


@task(max_attempts=3)
def mail_crisis_task(crisis_id: int) -> int:
    crisis = Crisis.objects.filter(pk=crisis_id).first()
    if crisis is None:
        return 0
    workspace = Workspace.objects.get(pk=crisis.workspace_id)
    sent = 0
    for member in holders(crisis.workspace_id, Permission.ANALYTICS).select_related("user").order_by("pk"):
        with translation.override(member.user.language or workspace.default_language):
            subject, body = crisis_text(crisis, workspace)
        sent += mail.send(member.user.email, subject, body)
    logger.info("crisis %s: %s members mailed", crisis_id, sent)
    return sent
