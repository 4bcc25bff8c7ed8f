"""What source people become: agents invited (mailed only when asked) or matched to their seat, contacts
with their identities or matched to the contact the workspace already has, and what is reported instead of
kept."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from threadline.contacts.actions import do_add_identity, do_create_contact
from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Conversation
from threadline.migration.fixtures.generator import build
from threadline.migration.models import Skipped
from threadline.migration.tests.helpers import run, serving
from threadline.tenancy.invitations import pending_invitation
from threadline.tenancy.models import Membership
from threadline.testing import factories
from threadline.testing.mailbox import wait_for_mail


def test_agents_are_invited_without_mail_and_an_existing_seat_is_matched(admin, system_mail):
    seat = factories.make_agent(admin, "agent1@support.example")
    export = build(12, customers=6)
    with serving("zendesk", export) as fake:
        report = run(admin.workspace, fake)
    assert report.counts["users"]["imported_agent"] == 4 and report.counts["users"]["matched_agent"] == 1
    invited = Membership.objects.filter(workspace=admin.workspace, user__email__endswith="@support.example")
    assert invited.count() == 5 and Membership.objects.get(pk=seat.pk).is_active
    for membership in invited.exclude(pk=seat.pk):
        assert not membership.is_active and pending_invitation(membership) is not None
    assert invited.get(user__email="agent0@support.example").role == "admin"
    assert system_mail.handler.received == []  # nobody is mailed unless asked
    replies = Conversation.objects.filter(workspace=admin.workspace, messages__author_membership=seat).distinct()
    assert replies.exists()  # agent1's replies are authored by the seat the workspace already had


def test_invite_agents_mails_each_new_invitation(admin, system_mail):
    with serving("freshdesk", build(6, customers=3)) as fake:
        run(admin.workspace, fake, invite=True)
    mails = wait_for_mail(system_mail, 5)
    assert sorted(m.message["To"] for m in mails) == [f"agent{i}@support.example" for i in range(5)]


def test_a_customer_the_workspace_already_knows_is_matched_not_duplicated(admin):
    export = build(30, customers=6)
    with transaction.atomic():
        known = do_create_contact(admin.workspace, name="Known Customer")
        do_add_identity(known, "email", "Customer0@Company0.example", verified=True)
    export.customers[1] = (*export.customers[1][:3], "12", *export.customers[1][4:])  # no phone number
    with serving("helpscout", export) as fake:
        report = run(admin.workspace, fake)
    assert report.counts["contacts"]["matched_contact"] == 1
    assert ContactIdentity.objects.filter(workspace=admin.workspace, address="customer0@company0.example").count() == 1
    tickets = [t for t in export.tickets if t.requester == export.customers[0][0]]
    assert tickets and Conversation.objects.filter(contact=known).count() == len(tickets)
    phone = Skipped.objects.get(workspace=admin.workspace, kind="identity")
    assert phone.external_id == str(export.customers[1][0]) and "12" in phone.reason
    second = Contact.objects.get(workspace=admin.workspace, name="Customer 1")
    assert set(second.identities.values_list("kind", flat=True)) == {"email"}  # the contact kept, its bad phone not
    handles = ContactIdentity.objects.filter(workspace=admin.workspace, kind="external")
    assert set(handles.values_list("address", flat=True)) == {f"twitter:@cust{c[0]}" for c in export.customers
                                                               if c[0] % 5 == 0}


def test_contacts_keep_their_source_creation_time_language_and_organization(admin):
    export = build(6, customers=6)
    with serving("zendesk", export) as fake:
        run(admin.workspace, fake)
    contact = Contact.objects.get(workspace=admin.workspace, name="Customer 2")
    assert contact.created_at == dt.datetime(2009, 7, 20, 22, 55, 29, tzinfo=dt.UTC)  # the example's created_at
    assert contact.language == export.customers[2][4] and contact.organization.name == "Company 2"
    assert contact.time_zone == "Europe/Prague"
