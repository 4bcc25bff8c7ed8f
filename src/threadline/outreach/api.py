"""/api/v1/outreach: campaigns (analytics.view to read, admin.automations to write and send), their report and
audit (JSON or CSV), segment previews, event notifications (conversations.reply), settings, proactive rules
(admin.channels)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from threadline.analytics.export import attachment
from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.contacts import identities
from threadline.contacts.models import Contact, ContactIdentity
from threadline.core.errors import NotFound, ValidationFailed
from threadline.core.schemas import Id
from threadline.outreach import actions, queries, segments
from threadline.outreach.models import Campaign, OutreachDelivery, ProactiveRule
from threadline.outreach.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    CampaignQuery,
    DeliveryQuery,
    NotificationIn,
    OutreachDeliveryOut,
    OutreachDeliveryPage,
    RuleIn,
    RuleOut,
    SegmentCountOut,
    SegmentIn,
    SettingsIn,
    SettingsOut,
)
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["outreach"])


def _detail(campaign: Campaign) -> dict[str, Any]:
    return {**CampaignOut.from_orm(campaign).dict(), "report": queries.report(campaign)}


@router.get("/campaigns", response=responses(CampaignPage), summary="List campaigns and notifications")
def campaign_list(request: HttpRequest, query: Query[CampaignQuery]) -> dict[str, Any]:
    rows, cursor = paginate(queries.list_campaigns(actor(request), kind=query.kind), cursor=query.cursor,
                            limit=query.limit)
    return page(rows, cursor)


@router.post("/campaigns", response=responses(CampaignDetailOut, 201), summary="Create a draft campaign")
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Any:
    """A draft campaign (send it with `/send`), or a notification, active at once, that an event sends."""
    member = actor(request)
    with transaction.atomic():
        campaign = actions.do_create_campaign(member.workspace_id, actor=member, **payload.model_dump())
    return Status(201, _detail(campaign))


@router.get("/campaigns/{campaign_id}", response=responses(CampaignDetailOut), summary="A campaign and its report")
def campaign_get(request: HttpRequest, campaign_id: Id) -> dict[str, Any]:
    return _detail(queries.access_campaign(actor(request), campaign_id))


@router.patch("/campaigns/{campaign_id}", response=responses(CampaignDetailOut), summary="Change a draft")
def campaign_update(request: HttpRequest, campaign_id: Id, payload: CampaignPatch) -> dict[str, Any]:
    member = actor(request)
    campaign = queries.access_campaign(member, campaign_id, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        campaign = actions.do_update_campaign(member, campaign, **payload.model_dump(exclude_none=True))
    return _detail(campaign)


@router.post("/campaigns/{campaign_id}/send", response=responses(CampaignDetailOut, 202), summary="Send a draft")
def campaign_send(request: HttpRequest, campaign_id: Id) -> Any:
    """Every contact in the segment now gets a recipient row; jobs send them in batches."""
    member = actor(request)
    campaign = queries.access_campaign(member, campaign_id, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        campaign = actions.do_start_campaign(member, campaign)
    return Status(202, _detail(campaign))


@router.post("/campaigns/{campaign_id}/cancel", response=responses(CampaignDetailOut), summary="Cancel")
def campaign_cancel(request: HttpRequest, campaign_id: Id) -> dict[str, Any]:
    member = actor(request)
    campaign = queries.access_campaign(member, campaign_id, Permission.ADMIN_AUTOMATIONS)
    with transaction.atomic():
        campaign = actions.do_cancel_campaign(member, campaign)
    return _detail(campaign)


@router.get("/campaigns/{campaign_id}/deliveries", response=responses(OutreachDeliveryPage),
            summary="Who received what (cursor paged)")
def campaign_deliveries(request: HttpRequest, campaign_id: Id, query: Query[DeliveryQuery]) -> dict[str, Any]:
    found = queries.deliveries(queries.access_campaign(actor(request), campaign_id))
    if query.status:
        if query.status not in OutreachDelivery.Status.values:
            raise ValidationFailed(_("Unknown status."), code="invalid_status", field="status")
        found = found.filter(status=query.status)
    rows, cursor = paginate(found, cursor=query.cursor, limit=query.limit, descending=False)
    return page(rows, cursor)


@router.get("/campaigns/{campaign_id}/deliveries.csv", summary="Who received what, as CSV",
            response=responses(str))
def campaign_csv(request: HttpRequest, campaign_id: Id) -> HttpResponse:
    campaign = queries.access_campaign(actor(request), campaign_id)
    return attachment(f"campaign-{campaign.pk}", "csv", queries.audit_rows(campaign), queries.CSV_HEADER)


@router.post("/segments/preview", response=responses(SegmentCountOut), summary="Count a segment")
def segment_preview(request: HttpRequest, payload: SegmentIn) -> dict[str, int]:
    member = actor(request)
    require(member, Permission.ANALYTICS)
    return {"count": segments.preview(member.workspace_id, payload.segment)}


def _contact(member: Membership, ref: Any) -> Contact:
    found: Contact | None = None
    if ref.contact_id is not None:
        found = Contact.objects.filter(pk=ref.contact_id, workspace_id=member.workspace_id).first()
    else:
        kind, address = ("email", ref.email) if ref.email else ("phone", ref.phone) if ref.phone else ("", "")
        if not kind:
            raise ValidationFailed(_("Name the contact by contact_id, email or phone."), code="invalid_contact",
                                   field="contact")
        try:
            address = identities.normalize(kind, address or "", region=member.workspace.default_region)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, code="invalid_contact", field=f"contact.{kind}") from exc
        kinds = [kind, "whatsapp"] if kind == "phone" else [kind]
        identity = (ContactIdentity.objects.filter(workspace_id=member.workspace_id, kind__in=kinds, address=address)
                    .select_related("contact").order_by("id").first())
        found = identity.contact if identity else None
    while found is not None and found.merged_into_id:
        found = found.merged_into
    if found is None:
        raise NotFound(_("No such contact."), code="contact_not_found")
    return found


@router.post("/notifications", response={200: OutreachDeliveryOut, **responses(OutreachDeliveryOut, 202)},
             summary="Notify a contact of an event")
def notify(request: HttpRequest, payload: NotificationIn) -> Any:
    """The event's notification to one contact (by id, email or phone), sent by a job on their preferred
    reachable channel under the same rules as a campaign. 202 with the recipient row; 200 with the first row
    when `key` was used before."""
    member = actor(request)
    require(member, Permission.REPLY)
    contact = _contact(member, payload.contact)
    with transaction.atomic():
        row, created = actions.do_notify(member, payload.event, contact, variables=payload.variables, key=payload.key,
                                         purpose=payload.purpose)
    return Status(202 if created else 200, row)


@router.get("/settings", response=responses(SettingsOut), summary="Quiet hours, rate limits, region defaults")
def settings_get(request: HttpRequest) -> Any:
    return queries.settings_of(actor(request))


@router.put("/settings", response=responses(SettingsOut), summary="Change the outreach settings")
def settings_put(request: HttpRequest, payload: SettingsIn) -> Any:
    member = actor(request)
    with transaction.atomic():
        return actions.do_save_settings(member, **payload.model_dump())


@router.get("/proactive-rules", response=responses(list[RuleOut]), summary="The widget's proactive rules")
def rules_list(request: HttpRequest) -> list[ProactiveRule]:
    return list(queries.list_rules(actor(request))[:200])


@router.post("/proactive-rules", response=responses(RuleOut, 201), summary="Add a proactive rule")
def rule_create(request: HttpRequest, payload: RuleIn) -> Any:
    member = actor(request)
    with transaction.atomic():
        rule = actions.do_save_proactive_rule(member, None, **payload.model_dump())
    return Status(201, rule)


@router.put("/proactive-rules/{rule_id}", response=responses(RuleOut), summary="Change a proactive rule")
def rule_update(request: HttpRequest, rule_id: Id, payload: RuleIn) -> Any:
    member = actor(request)
    rule = queries.access_rule(member, rule_id)
    with transaction.atomic():
        return actions.do_save_proactive_rule(member, rule, **payload.model_dump())


@router.delete("/proactive-rules/{rule_id}", response=responses(None, 204), summary="Delete a proactive rule")
def rule_delete(request: HttpRequest, rule_id: Id) -> Any:
    member = actor(request)
    rule = queries.access_rule(member, rule_id)
    with transaction.atomic():
        actions.do_delete_proactive_rule(member, rule)
    return Status(204, None)
