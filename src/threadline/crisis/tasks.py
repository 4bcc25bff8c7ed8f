"""The crisis alert mail (one message per member who sees reports, analytics.view, in their language) and the
hourly pruning of the detector's mentions past `MENTION_DAYS` (the crisis room's evidence; the detector's
state per series holds the baseline, so nothing older is read)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from threadline.core import mail
from threadline.core.time import now
from threadline.crisis.models import Crisis, Mention
from threadline.jobs.registry import task
from threadline.tenancy.models import Workspace
from threadline.tenancy.permissions import Permission, holders

logger = logging.getLogger(__name__)
MENTION_DAYS = 90
PRUNE_BATCH = 5_000


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


@task(max_attempts=3)
def prune_mentions_task() -> int:
    """Delete counted mentions older than MENTION_DAYS, a batch at a time (the next run takes the rest)."""
    cutoff = now() - dt.timedelta(days=MENTION_DAYS)
    old = list(Mention.objects.filter(posted_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH])
    return Mention.objects.filter(pk__in=old).delete()[0] if old else 0
