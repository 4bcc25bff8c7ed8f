"""Queue visibility: keyset paging of the list (no silent cut), SLA countdown and sorting by SLA due, waiting
time, failed replies marked, "load earlier" in long timelines, density and the contact panel preference,
subjects cut on grapheme boundaries, and "Reply on" never pre-selecting a channel that cannot deliver."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction

from threadline.conversations.actions import do_add_note, do_send_reply
from threadline.conversations.models import Message
from threadline.sla.actions import do_apply_policy, do_save_policy
from threadline.tenancy.models import Role
from threadline.testing import factories
from threadline.web import queries
from threadline.web.graphemes import cut
from threadline.web.models import UiPreference
from threadline.web.tests.helpers import FETCH, customer_writes


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="row [^"]*" data-conversation-id="(\d+)"', html)]


def more_cursor(html: str) -> str:
    found = re.search(r'data-more="([^"]+)"', html)
    return found.group(1) if found else ""


def test_the_list_pages_through_every_conversation_without_a_silent_cut(signed_in, api_channel, monkeypatch):
    monkeypatch.setattr(queries, "LIST_LIMIT", 7)
    made = [customer_writes(api_channel, f"Question {n}", address=f"c{n}@example.com").conversation.pk
            for n in range(17)]
    seen: list[int] = []
    html = signed_in.get("/app/x/list?view=all", **FETCH).content.decode()
    seen += row_ids(html)
    cursor = more_cursor(html)
    pages = 1
    while cursor:
        html = signed_in.get(f"/app/x/list?view=all&after={cursor}", **FETCH).content.decode()
        assert "list-head" not in html  # only rows (and the next "load more") are appended
        seen += row_ids(html)
        cursor = more_cursor(html)
        pages += 1
    assert pages == 3
    assert seen == sorted(made, reverse=True)  # newest activity first, each exactly once

    # a conversation that gets a new message while the agent pages moves to the top, never duplicated below
    first = signed_in.get("/app/x/list?view=all", **FETCH).content.decode()
    customer_writes(api_channel, "Still there?", address="c0@example.com")
    rest = signed_in.get(f"/app/x/list?view=all&after={more_cursor(first)}", **FETCH).content.decode()
    assert made[0] not in row_ids(rest)


def test_oldest_and_priority_orders_page_too(signed_in, api_channel, monkeypatch):
    monkeypatch.setattr(queries, "LIST_LIMIT", 2)
    made = [customer_writes(api_channel, f"Q {n}", address=f"o{n}@example.com").conversation.pk for n in range(5)]
    for sort in ("oldest", "priority", "created"):
        seen, cursor = [], None
        while cursor != "":
            html = signed_in.get(f"/app/x/list?sort={sort}" + (f"&after={cursor}" if cursor else ""),
                                 **FETCH).content.decode()
            seen += row_ids(html)
            cursor = more_cursor(html)
        assert sorted(seen) == sorted(made) and len(seen) == len(made), sort


def test_a_bad_cursor_is_a_clear_400(signed_in, api_channel):
    customer_writes(api_channel, "Hello")
    for cursor in ("zzz", "WzEsMl0", "bm90IGpzb24"):
        answer = signed_in.get(f"/app/x/list?view=all&after={cursor}", **FETCH)
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid_cursor"


def test_rows_show_the_sla_countdown_waiting_time_and_sort_by_sla_due(signed_in, admin, api_channel):
    with transaction.atomic():
        do_save_policy(admin.workspace, None, name="Urgent first", first_response_minutes=30,
                       conditions={"priorities": ["urgent"]}, position=0)
        do_save_policy(admin.workspace, None, name="Everyone", first_response_minutes=240, position=1)
    slow = customer_writes(api_channel, "Whenever you can", address="slow@example.com").conversation
    none = customer_writes(api_channel, "No policy", address="none@example.com").conversation
    fast = customer_writes(api_channel, "Urgent!", address="fast@example.com").conversation
    with transaction.atomic():
        fast.priority = "urgent"
        fast.save()
        for conversation in (slow, fast):
            do_apply_policy(conversation, conversation.created_at)
    html = signed_in.get("/app/x/list?sort=sla", **FETCH).content.decode()
    assert row_ids(html) == [fast.pk, slow.pk, none.pk]  # the earliest deadline first, none last
    fast_row = html[html.index(f'data-conversation-id="{fast.pk}"'):]
    fast_row = fast_row[:fast_row.index("</li>")]
    due = dt.datetime.fromisoformat(re.search(r'<time datetime="([^"]+)" data-style="countdown"', fast_row).group(1))
    assert dt.timedelta(minutes=29) < due - fast.created_at <= dt.timedelta(minutes=30)
    assert 'class="waiting"' in fast_row and 'data-style="duration"' in fast_row
    assert "First response" in fast_row


def test_waiting_time_stops_once_the_team_answered(signed_in, admin, api_channel):
    conversation = customer_writes(api_channel, "Hello?").conversation
    assert 'class="waiting"' in signed_in.get("/app/x/list", **FETCH).content.decode()
    with transaction.atomic():
        do_send_reply(admin, conversation, "Hi!")
    assert 'class="waiting"' not in signed_in.get("/app/x/list", **FETCH).content.decode()


def test_a_failed_reply_is_marked_in_the_list(signed_in, admin, run_jobs):
    blind = factories.make_api_channel(admin)  # no webhook URL: every reply fails
    conversation = customer_writes(blind, "Anyone?").conversation
    with transaction.atomic():
        do_send_reply(admin, conversation, "We are here", channel=blind)
    run_jobs()
    assert Message.objects.get(text="We are here").status == "failed"
    with transaction.atomic():
        do_add_note(admin, conversation, "It did not go out")  # the failure stays marked after a note
    html = signed_in.get("/app/x/list", **FETCH).content.decode()
    assert "Reply failed" in html


def test_reply_on_never_preselects_a_channel_that_cannot_deliver(signed_in, admin, api_channel):
    blind = factories.make_api_channel(admin)  # no webhook URL
    conversation = customer_writes(blind, "From the blind channel", address="same@example.com",
                                   kind="external").conversation
    customer_writes(api_channel, "And from the good one", address="same@example.com", kind="external")
    with transaction.atomic():
        conversation.last_inbound_channel = blind
        conversation.save()
    html = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    html = html[html.index('id="channel-select"'):]
    blind_option = re.search(rf'<option value="{blind.pk}"[^>]*>', html).group(0)
    good_option = re.search(rf'<option value="{api_channel.pk}"[^>]*>', html).group(0)
    assert "disabled" in blind_option and "selected" not in blind_option
    assert "selected" in good_option
    assert "no webhook URL" in html


def test_load_earlier_reaches_the_first_message_of_a_long_timeline(signed_in, admin, api_channel, monkeypatch):
    monkeypatch.setattr(queries, "TIMELINE_LIMIT", 6)
    conversation = customer_writes(api_channel, "Message 0").conversation
    for n in range(1, 14):
        customer_writes(api_channel, f"Message {n}")
    with transaction.atomic():
        do_add_note(admin, conversation, "A note in between")
    html = signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH).content.decode()
    body = r'<div class="body" dir="auto">Message (\d+)'
    texts = re.findall(body, html)
    cursor = re.search(r'data-before="([^"]+)"', html).group(1)
    pages = 1
    while cursor:
        fragment = signed_in.get(f"/app/x/conversations/{conversation.pk}/timeline?before={cursor}",
                                 **FETCH).content.decode()
        texts = re.findall(body, fragment) + texts
        found = re.search(r'data-before="([^"]+)"', fragment)
        cursor = found.group(1) if found else ""
        pages += 1
    assert [int(t) for t in texts] == list(range(14))  # every message once, in order
    assert pages >= 3
    bad = signed_in.get(f"/app/x/conversations/{conversation.pk}/timeline?before=nonsense", **FETCH)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


def test_density_and_the_contact_panel_are_remembered_per_person(client, admin, api_channel):
    light = factories.make_agent(admin, "light@example.com", role=Role.LIGHT_AGENT)
    conversation = customer_writes(api_channel, "Hello").conversation
    client.force_login(light.user)
    assert client.post("/app/x/ui", {"density": "compact"}, **FETCH).json()["density"] == "compact"
    assert client.post("/app/x/ui", {"contact_panel": "collapsed"}, **FETCH).status_code == 200
    assert 'class="app density-compact"' in client.get("/app/").content.decode()
    page = client.get(f"/app/c/{conversation.pk}/").content.decode()
    assert "conversation panel-collapsed" in page and 'aria-expanded="false"' in page
    assert client.post("/app/x/ui", {"density": "tiny"}, **FETCH).json()["code"] == "invalid_density"
    assert UiPreference.objects.get(user=light.user).density == "compact"
    assert not UiPreference.objects.filter(user=admin.user).exists()  # another person's stays untouched
    no_js = client.post("/app/x/ui", {"density": "comfortable", "back": "/app/?view=mine"})
    assert no_js.status_code == 302 and no_js["Location"] == "/app/?view=mine"
    client.logout()
    assert client.post("/app/x/ui", {"density": "compact"}, **FETCH).status_code == 401


@pytest.mark.parametrize(("text", "length", "expected"), [
    ("สวัสดีครับ ขอบคุณมากครับ", 5, "สวัสดี…"),  # สวั / ส / ดี: the vowel and tone marks stay on their consonants
    ("שָׁלוֹם עֲלֵיכֶם", 4, "שָׁלוֹ…"),  # Hebrew points stay on their letters
    ("👨‍👩‍👧‍👦 family", 2, "👨‍👩‍👧‍👦…"),  # a ZWJ emoji sequence is one character
    ("short", 10, "short"),
])
def test_subjects_are_cut_on_grapheme_boundaries(text, length, expected):
    assert cut(text, length) == expected


def test_long_thai_subjects_are_cut_whole_in_the_list(signed_in, api_channel):
    subject = "ขอคืนเงินค่าสินค้าที่สั่งซื้อเมื่อสัปดาห์ที่แล้วเพราะยังไม่ได้รับของเลยค่ะ" * 3
    customer_writes(api_channel, "รายละเอียด", subject=subject)
    html = signed_in.get("/app/x/list", **FETCH).content.decode()
    shown = re.search(r'class="row-subject" dir="auto">#\d+ ([^<]+)</span>', html).group(1)
    assert shown.endswith("…") and subject.startswith(shown[:-1])
    assert not re.match(r"[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]", subject[len(shown) - 1:])  # no stranded mark


def test_language_and_time_zone_default_to_the_browsers_once(client, admin):
    agent = factories.make_agent(admin, "noa@example.com")
    client.force_login(agent.user)
    first = client.get("/app/", HTTP_ACCEPT_LANGUAGE="he-IL,he;q=0.9,en;q=0.8")
    assert first.status_code == 302 and first["Location"] == "/app/"
    agent.user.refresh_from_db()
    assert agent.user.language == "he"
    assert 'dir="rtl"' in client.get("/app/", HTTP_ACCEPT_LANGUAGE="he-IL").content.decode()
    assert client.post("/app/x/browser-defaults", {"time_zone": "Asia/Jerusalem"}, **FETCH).json()["changed"] is True
    assert client.post("/app/x/browser-defaults", {"time_zone": "Asia/Bangkok"}, **FETCH).json()["changed"] is False
    agent.user.refresh_from_db()
    assert agent.user.time_zone == "Asia/Jerusalem"  # saved once: a later report does not move it
    assert '"report_time_zone": false' in client.get("/app/").content.decode()

    # a person who chose their own keeps it, whatever the browser says
    chooser = factories.make_agent(admin, "ann@example.com")
    client.force_login(chooser.user)
    client.post("/app/x/preferences", {"language": "cs", "time_zone": "Europe/Prague"}, **FETCH)
    assert client.get("/app/", HTTP_ACCEPT_LANGUAGE="th").status_code == 200
    assert client.post("/app/x/browser-defaults", {"time_zone": "Asia/Bangkok"}, **FETCH).json()["changed"] is False
    chooser.user.refresh_from_db()
    assert (chooser.user.language, chooser.user.time_zone) == ("cs", "Europe/Prague")

    # a browser in a language the installation lacks changes nothing; a bogus zone is refused
    other = factories.make_agent(admin, "ole@example.com")
    client.force_login(other.user)
    assert client.get("/app/", HTTP_ACCEPT_LANGUAGE="de-DE").status_code == 200
    bad = client.post("/app/x/browser-defaults", {"time_zone": "Mars/Olympus"}, **FETCH)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_time_zone"
    other.user.refresh_from_db()
    assert (other.user.language, other.user.time_zone) == ("en", "UTC")
