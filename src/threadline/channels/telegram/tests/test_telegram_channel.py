from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction
from telegram import Bot, Update

from threadline.channels.actions import do_create_channel
from threadline.channels.fake_provider import FakeProvider
from threadline.channels.models import InboundEvent
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.core.time import now
from threadline.jobs.models import Job

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "tl_secret_token_0123456789abcdef"
FILES = {
    "AgACAgQAAxkBAAIBZ2VhbGxfbGFyZ2U": ("photos/file_7.jpg", b"\xff\xd8large", "image/jpeg"),
    "BQACAgQAAxkBAAIBaGRvY3VtZW50": ("documents/file_8.pdf", b"%PDF-receipt", "application/pdf"),
    "AwACAgQAAxkBAAIBaXZvaWNl": ("voice/file_9.oga", b"OggS-voice", "audio/ogg"),
    "CAACAgIAAxkBAAIBanN0aWNrZXI": ("stickers/file_10.webp", b"RIFF-webp", "image/webp"),
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def bot_api():
    fake = FakeProvider().start()

    def get_file(call):
        file_id = call.query["file_id"][0]
        answer = (FIXTURES / "getfile.json").read_text().replace("{file_id}", file_id)
        return 200, answer.replace("{file_path}", FILES[file_id][0]).encode(), {"Content-Type": "application/json"}

    fake.handle("GET", f"/bot{TOKEN}/getFile", get_file)
    for path, content, ctype in FILES.values():
        fake.route("GET", f"/file/bot{TOKEN}/{path}", 200, content, {"Content-Type": ctype})
    fake.route("POST", f"/bot{TOKEN}/sendMessage", 200, fixture("send_message.json"))
    fake.route("POST", f"/bot{TOKEN}/sendDocument", 200, {**fixture("send_message.json"), "result": {
        **fixture("send_message.json")["result"], "message_id": 1401}})
    yield fake
    fake.stop()


def make_channel(admin, api_base_url="https://api.telegram.org"):
    with transaction.atomic():
        return do_create_channel(admin, "telegram", "Acme bot", {"bot_token": TOKEN, "secret_token": SECRET,
                                                                "api_base_url": api_base_url})


def post(client, channel, update: dict, secret: str | None = SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret else {}
    return client.post(f"/hooks/telegram/{channel.pk}/", json.dumps(update, ensure_ascii=False).encode(),
                       content_type="application/json", **headers)


UPDATES = sorted(p.name for p in FIXTURES.glob("*.json") if "update_id" in json.loads(p.read_text()))


@pytest.mark.parametrize("name", UPDATES)
def test_fixtures_are_real_telegram_updates(name):
    """python-telegram-bot parses every fixture as an Update (our payload shapes are Telegram's)."""
    data = fixture(name)
    update = Update.de_json(data, Bot(TOKEN))
    assert update.update_id == data["update_id"]
    assert update.effective_user is None or update.effective_user.id == 111222333


def test_secret_token_checks_and_replay(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    assert post(client, channel, fixture("text.json"), secret=None).status_code == 401
    assert post(client, channel, fixture("text.json"), secret="wrong_secret_token_0123456789ab").status_code == 401
    assert InboundEvent.objects.count() == 0
    assert post(client, channel, fixture("text.json")).status_code == 202
    assert post(client, channel, fixture("text.json")).status_code == 200  # same update_id
    run_jobs()
    message = Message.objects.get()
    assert message.text == "שלום, ההזמנה שלי לא הגיעה"
    assert (message.identity.kind, message.identity.address, message.identity.display_name) == (
        "telegram", "111222333", "Noa Cohen")
    assert message.metadata["language"] == "he"


@pytest.mark.parametrize(("name", "text", "filename", "content"), [
    ("photo.json", "the box", "photo-1366.jpg", b"\xff\xd8large"),
    ("document.json", "", "receipt.pdf", b"%PDF-receipt"),
    ("voice.json", "", "voice-1368.oga", b"OggS-voice"),
    ("sticker.json", "(sticker 😂)", "sticker-1369.webp", b"RIFF-webp"),
])
def test_files_are_fetched_with_getfile(client, admin, run_jobs, bot_api, name, text, filename, content):
    channel = make_channel(admin, bot_api.url)
    post(client, channel, fixture(name))
    run_jobs()
    message = Message.objects.get()
    assert message.text == text
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.file.read()) == (filename, content)


@pytest.mark.parametrize(("name", "text"), [
    ("location.json", "Location: 32.0853, 34.781768"),
    ("contact.json", "Contact: Dana Levi +972525551234"),
    ("callback_query.json", "Pressed: solved_yes"),
    ("reaction.json", "Reacted 👍"),
])
def test_other_message_kinds(client, admin, run_jobs, name, text):
    channel = make_channel(admin)
    post(client, channel, fixture(name))
    run_jobs()
    assert Message.objects.get().text == text


def test_edit_is_a_new_message_pointing_to_the_original_and_unknown_updates_are_recorded(client, admin, run_jobs):
    channel = make_channel(admin)
    post(client, channel, fixture("text.json"))
    post(client, channel, fixture("edited.json"))
    post(client, channel, fixture("unknown.json"))
    run_jobs()
    edited = Message.objects.get(provider_message_id__contains=":edit:")
    assert edited.text == "(edited) שלום, ההזמנה 1001 לא הגיעה"
    assert edited.metadata["edit_of"] == "111222333:1365"
    assert Conversation.objects.count() == 1
    assert list(InboundEvent.objects.values_list("state", flat=True)) == ["processed"] * 3


def test_reply_text_and_document_and_errors(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    post(client, channel, fixture("text.json"))
    run_jobs()
    conversation = Conversation.objects.get()
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "בדקנו — החבילה יצאה היום")
        with_file = do_send_reply(admin, conversation, "the invoice", attachments=[("inv.pdf", "application/pdf", b"%PDF")])
    run_jobs()
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[0].json()
    assert sent == {"chat_id": "111222333", "text": "בדקנו — החבילה יצאה היום"}
    document = bot_api.calls("POST", f"/bot{TOKEN}/sendDocument")[0]
    assert b'name="caption"' in document.body and b"the invoice" in document.body and b"%PDF" in document.body
    reply.refresh_from_db()
    with_file.refresh_from_db()
    assert (reply.status, reply.provider_message_id) == ("sent", "111222333:1400")
    assert with_file.status == "sent"

    bot_api.route("POST", f"/bot{TOKEN}/sendMessage", 429, fixture("error_429.json"))
    bot_api.route("POST", f"/bot{TOKEN}/sendMessage", 403, fixture("error_blocked.json"), then=True)
    with transaction.atomic():
        blocked = do_send_reply(admin, conversation, "hello?")
    run_jobs()
    blocked.refresh_from_db()
    assert blocked.status == "queued" and "Too Many Requests" in blocked.delivery.last_error
    Job.objects.filter(task__endswith="deliver_message_task").update(run_after=now())
    run_jobs()
    blocked.refresh_from_db()
    assert blocked.status == "failed" and "bot was blocked by the user" in blocked.status_reason
    assert TOKEN not in blocked.status_reason


def test_buttons_become_an_inline_keyboard(client, admin, run_jobs, bot_api):
    channel = make_channel(admin, bot_api.url)
    post(client, channel, fixture("text.json"))
    run_jobs()
    with transaction.atomic():
        do_send_reply(admin, Conversation.objects.get(), "Solved?", template={
            "name": "interactive", "buttons": [{"id": "solved_yes", "title": "Yes"}, {"id": "solved_no", "title": "No"}]})
    run_jobs()
    sent = bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")[0].json()
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "solved_yes"}],
                                                        [{"text": "No", "callback_data": "solved_no"}]]}


def test_group_messages_are_a_conversation_of_their_own_answered_in_the_group(client, admin, run_jobs, bot_api):
    """A supergroup is one conversation (keyed by its chat id) apart from each member's private chat; every
    sender is still their own contact, and the agent's reply goes into the group."""
    channel = make_channel(admin, bot_api.url)
    post(client, channel, fixture("text.json"))
    run_jobs()
    post(client, channel, fixture("group_text.json"))
    other = fixture("group_text.json")
    other["update_id"], other["message"]["message_id"], other["message"]["text"] = 10021, 53, "same for me"
    other["message"]["from"] = {"id": 444555666, "is_bot": False, "first_name": "Dan"}
    post(client, channel, other)
    run_jobs()
    private = Message.objects.get(provider_message_id="111222333:1365").conversation
    group = Message.objects.get(provider_message_id="-1001234567890:52").conversation
    assert private.pk != group.pk and group.subject == "Acme customers"
    members = Message.objects.filter(conversation=group).order_by("id")
    assert [m.identity.address for m in members] == ["111222333", "444555666"]
    assert members[0].identity == Message.objects.get(conversation=private).identity  # Noa, one identity
    assert members[1].author_contact != members[0].author_contact
    with transaction.atomic():
        do_send_reply(admin, group, "We are on it")
        do_send_reply(admin, private, "And privately")
    run_jobs()
    sent = [call.json() for call in bot_api.calls("POST", f"/bot{TOKEN}/sendMessage")]
    assert sent == [{"chat_id": "-1001234567890", "text": "We are on it"},
                    {"chat_id": "111222333", "text": "And privately"}]
    again = fixture("text.json")
    again["update_id"], again["message"]["message_id"] = 10022, 1366
    post(client, channel, again)
    run_jobs()
    assert Message.objects.get(provider_message_id="111222333:1366").conversation_id == private.pk
    client.force_login(admin.user)  # each timeline keeps to its side: no group talk in Noa's own, and back
    own_page, group_page = (client.get(f"/app/c/{c.pk}/").content.decode().split('<ol class="timeline"')[1]
                            .split("</ol>")[0] for c in (private, group))
    assert "same for me" not in own_page and "We are on it" not in own_page
    assert "same for me" in group_page and "And privately" not in group_page
