"""Reads for automations and their execution log; `access_*` are the permission-checked lookups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.automations.models import Automation, AutomationRun
from threadline.core.errors import NotFound
from threadline.tenancy.models import Membership


def list_automations(actor: Membership) -> QuerySet[Automation]:
    return Automation.objects.filter(workspace_id=actor.workspace_id)


def access_automation(actor: Membership, automation_id: int) -> Automation:
    automation = list_automations(actor).filter(pk=automation_id).first()
    if automation is None:
        raise NotFound(_("No such automation."), code="automation_not_found")
    return automation


def list_runs(actor: Membership, *, conversation_id: int | None = None,
              automation_id: int | None = None) -> QuerySet[AutomationRun]:
    runs = AutomationRun.objects.filter(workspace_id=actor.workspace_id)
    if conversation_id is not None:
        runs = runs.filter(conversation_id=conversation_id)
    if automation_id is not None:
        runs = runs.filter(automation_id=automation_id)
    return runs
