"""Merge suggestions: who may be the same person, why, and how sure; never merged automatically."""

from __future__ import annotations

from threadline.contacts.actions import do_add_identity
from threadline.contacts.merge import do_dismiss_suggestion
from threadline.contacts.models import Contact, MergeSuggestion
from threadline.contacts.suggestions import describe, suggest_for
from threadline.contacts.tests.builders import atomic, inbound
from threadline.events.models import OutboxEvent
from threadline.testing.factories import make_api_channel


def codes(suggestion):
    return [r["code"] for r in suggestion.reasons]


def only_suggestion():
    suggestion = MergeSuggestion.objects.get()
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0  # nothing merged by itself
    return suggestion


def test_same_name_in_any_case_and_accents(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "jose@a-shop.example", name="José Núñez")
    inbound(channel, "telegram", "777001", name="JOSE NUNEZ")
    suggestion = only_suggestion()
    assert codes(suggestion) == ["same_name"]
    assert describe(suggestion.reasons[0]) == "Same name: JOSE NUNEZ and José Núñez"
    assert suggestion.score == 0.4


def test_same_hebrew_and_thai_names(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana@one.example", name="דָּנָה לֵוִי")
    inbound(channel, "line", "U-dana", name="דנה לוי")
    inbound(channel, "email", "somchai@two.example", name="สมชาย ใจดี")
    inbound(channel, "line", "U-somchai", name="สมชาย\u200bใจดี")
    assert sorted(codes(s)[0] for s in MergeSuggestion.objects.all()) == ["same_name", "same_name"]


def test_a_common_first_name_alone_suggests_nothing(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana@one.example", name="Dana")
    inbound(channel, "email", "dana@two.example", name="Dana")
    assert MergeSuggestion.objects.count() == 0


def test_same_name_at_the_same_organization_domain_scores_higher(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana@acme.example", name="Dana Levi")
    inbound(channel, "email", "d.levi@acme.example", name="Dana Levi")
    suggestion = only_suggestion()
    assert codes(suggestion) == ["same_name", "same_name_and_domain"]
    assert describe(suggestion.reasons[1]) == "Same name, and both write from acme.example"
    assert suggestion.score == 0.7


def test_a_free_mail_domain_is_not_an_organization(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana1@gmail.com", name="Dana Levi")
    inbound(channel, "email", "dana2@gmail.com", name="Dana Levi")
    assert codes(only_suggestion()) == ["same_name"]


def test_same_email_local_part_at_another_domain(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana.levi@shop.co.il")
    inbound(channel, "email", "Dana.Levi+tickets@gmail.com")
    suggestion = only_suggestion()
    assert suggestion.reasons == [{"code": "same_email_local_part", "params": {
        "address": "dana.levi+tickets@gmail.com", "other_address": "dana.levi@shop.co.il"}}]


def test_role_accounts_are_not_people(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "info@shop.co.il")
    inbound(channel, "email", "info@other.example")
    assert MergeSuggestion.objects.count() == 0


def test_same_national_number_under_another_country_code(admin):
    channel = make_api_channel(admin)
    inbound(channel, "phone", "052-555-1234")  # IL: +972525551234
    inbound(channel, "whatsapp", "66525551234")
    suggestion = only_suggestion()
    assert suggestion.reasons == [{"code": "same_national_number", "params": {
        "address": "+66525551234", "other_address": "+972525551234"}}]
    assert suggestion.score == 0.5


def test_an_agent_added_phone_that_another_contact_has_on_whatsapp(admin):
    channel = make_api_channel(admin)
    on_whatsapp = inbound(channel, "whatsapp", "972525551234").author_contact
    by_email = inbound(channel, "email", "noa@example.com").author_contact
    atomic(do_add_identity, by_email, "phone", "052-555-1234", actor=admin, strict=True)
    suggestion = only_suggestion()
    assert (suggestion.contact_id, suggestion.candidate_id) == (by_email.pk, on_whatsapp.pk)
    assert codes(suggestion) == ["same_phone_number"]
    assert describe(suggestion.reasons[0]) == "The same phone number +972525551234, on phone and on whatsapp"
    assert suggestion.score == 0.9


def test_one_row_per_pair_and_new_reasons_are_added_to_it(admin):
    channel = make_api_channel(admin)
    first = inbound(channel, "email", "dana.levi@shop.co.il", name="Dana Levi").author_contact
    second = inbound(channel, "telegram", "5550001", name="Dana Levi").author_contact
    atomic(do_add_identity, second, "email", "dana.levi@gmail.com", actor=admin)
    atomic(suggest_for, first)  # the other direction finds the same pair
    suggestion = only_suggestion()
    assert codes(suggestion) == ["same_name", "same_email_local_part"]
    assert suggestion.score == round(1 - 0.6 * 0.65, 3)
    events = OutboxEvent.objects.filter(type="contact.merge_suggested").order_by("id")
    assert [len(e.payload["reasons"]) for e in events] == [1, 2]
    assert events.last().payload["reasons"][1]["message"].startswith("The same email name at another domain")


def test_a_dismissed_pair_is_never_suggested_again(admin):
    channel = make_api_channel(admin)
    inbound(channel, "email", "dana@one.example", name="Dana Levi")
    second = inbound(channel, "email", "dana@two.example", name="Dana Levi").author_contact
    atomic(do_dismiss_suggestion, admin, MergeSuggestion.objects.get())
    atomic(do_add_identity, second, "email", "dana@three.example", actor=admin)
    assert atomic(suggest_for, second) == []
    assert MergeSuggestion.objects.get().state == "dismissed"


def test_merged_contacts_are_not_candidates(admin):
    from threadline.contacts.merge import do_merge_contacts

    channel = make_api_channel(admin)
    source = inbound(channel, "email", "dana@one.example", name="Dana Levi").author_contact
    target = inbound(channel, "telegram", "9001").author_contact
    atomic(do_merge_contacts, admin, source, target)  # the target takes the source's empty-on-target name
    newcomer = inbound(channel, "email", "dana@three.example", name="Dana Levi").author_contact
    suggestion = MergeSuggestion.objects.get()
    assert (suggestion.contact_id, suggestion.candidate_id) == (newcomer.pk, target.pk)


def test_suggesting_costs_a_few_indexed_lookups_whatever_the_number_of_contacts(admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    channel = make_api_channel(admin)
    for n in range(25):
        inbound(channel, "email", f"person{n}@shop{n}.example", name=f"Person Number{n}")
    loner = inbound(channel, "email", "dana.levi@acme.example", name="Dana Levi").author_contact
    with CaptureQueriesContext(connection) as queries:
        atomic(suggest_for, loner)
    assert len(queries) <= 6  # its identities, same name, same match keys (and the savepoint around them)

    for n in range(22):
        inbound(channel, "telegram", f"dana-{n}", name="Dana Levi")
    MergeSuggestion.objects.all().delete()
    assert len(atomic(suggest_for, loner)) == 20  # bounded by MAX_CANDIDATES


def test_a_mexican_whatsapp_id_with_the_historic_1_meets_the_same_number_on_sms(admin):
    """Issue 9 item 1: WhatsApp reports Mexican mobiles as 521…, which the phone library calls too long and
    is stored as given; the same person texting from +52… is suggested as the same contact."""
    channel = make_api_channel(admin)
    inbound(channel, "whatsapp", "5215512345678", name="Joaquín")
    inbound(channel, "phone", "+525512345678", name="J. Pérez")
    suggestion = only_suggestion()
    assert codes(suggestion) == ["same_national_number"]
