from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
from django.db import transaction

from threadline.channels.models import InboundEvent
from threadline.channels.sms.segments import segment
from threadline.channels.sms.tests.helpers import (
    ACCOUNT_SID,
    PUBLIC_URL,
    fixture,
    make_twilio_channel,
    sign,
    twilio_post,
)
from threadline.consent.models import ConsentRecord
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import do_send_reply
from threadline.conversations.models import Conversation, Message
from threadline.conversations.reachability import reachable_channels
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.jobs.models import Job


def test_inbound_text_creates_contact_with_e164_phone(client, admin, run_jobs):
    channel = make_twilio_channel(admin)
    response = twilio_post(client, channel, fixture("inbound_text.form"))
    assert response.status_code == 202, response.content
    run_jobs()
    message = Message.objects.get(provider_message_id="SM1f0e8ae6ade43cb3c0ce4525424e404f")
    assert message.text == "Hi, my order 1001 has not arrived"
    assert message.metadata["city"] == "SAN FRANCISCO"
    identity = message.identity
    assert (identity.kind, identity.address) == ("phone", "+14155552671")


def test_signature_checks(client, admin):
    channel = make_twilio_channel(admin)
    body = fixture("inbound_text.form")
    tampered = body.replace("1001", "1002")
    good_sig = sign(f"{PUBLIC_URL}/hooks/sms/{channel.pk}/", body)
    assert twilio_post(client, channel, tampered, signature=good_sig).status_code == 401
    assert twilio_post(client, channel, body, token="wrong-token-wrong-token-wrong-tok").status_code == 401
    missing = client.post(f"/hooks/sms/{channel.pk}/", body, content_type="application/x-www-form-urlencoded")
    assert missing.status_code == 401
    assert json.loads(missing.content)["code"] == "invalid_signature"
    assert InboundEvent.objects.count() == 0
    # replayed: the same signed delivery twice is stored once
    assert twilio_post(client, channel, body).status_code == 202
    replay = twilio_post(client, channel, body)
    assert replay.status_code == 200 and json.loads(replay.content)["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


def test_signature_uses_public_url(client, admin, settings):
    channel = make_twilio_channel(admin)
    body = fixture("inbound_text.form")
    signed_for_other_host = sign(f"https://evil.example.net/hooks/sms/{channel.pk}/", body)
    assert twilio_post(client, channel, body, signature=signed_for_other_host).status_code == 401
    with_port = sign(f"https://support.example.com:443/hooks/sms/{channel.pk}/", body)
    assert twilio_post(client, channel, body, signature=with_port).status_code == 202


def test_json_body_signature_with_body_sha256(client, admin):
    """Twilio signs JSON bodies through the bodySHA256 query parameter (validate_body in the SDK)."""
    import hashlib

    from twilio.request_validator import RequestValidator

    channel = make_twilio_channel(admin)
    body = json.dumps({"MessageSid": "SMjson1", "MessageStatus": "delivered"}).encode()
    path = f"/hooks/sms/{channel.pk}/?bodySHA256={hashlib.sha256(body).hexdigest()}"
    validator = RequestValidator("12345678901234567890123456789012")
    signature = validator.compute_signature(PUBLIC_URL + path, {})
    assert validator.validate(PUBLIC_URL + path, body.decode(), signature)  # the SDK agrees
    ok = client.post(path, body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)
    assert ok.status_code in (202, 400)  # authentic; the adapter reads form bodies
    bad = client.post(path, body + b" ", content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)
    assert bad.status_code == 401


def test_mms_media_downloaded_with_account_credentials(client, admin, run_jobs, provider):
    jpeg, pdf = b"\xff\xd8\xff\xe0fake-jpeg", b"%PDF-1.4 receipt"
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM7a8b0c5e3d4f41e0a2b9c8d7e6f5a4b3/Media"
    provider.route("GET", f"{base}/ME0", 307, b"", {"Location": f"{provider.url}/cdn/ME0.jpg"})
    provider.route("GET", "/cdn/ME0.jpg", 200, jpeg, {"Content-Type": "image/jpeg"})
    provider.route("GET", f"{base}/ME1", 200, pdf, {"Content-Type": "application/pdf"})
    channel = make_twilio_channel(admin)
    assert twilio_post(client, channel, fixture("inbound_mms.form", media=provider.url)).status_code == 202
    run_jobs()
    message = Message.objects.get(provider_message_id="MM7a8b0c5e3d4f41e0a2b9c8d7e6f5a4b3")
    stored = {a.content_type: a.file.read() for a in message.attachments.all()}
    assert stored == {"image/jpeg": jpeg, "application/pdf": pdf}
    first = provider.calls("GET", f"{base}/ME0")[0]
    assert first.headers["authorization"].startswith("Basic ")
    assert "authorization" in provider.calls("GET", "/cdn/ME0.jpg")[0].headers  # same host: kept


def _conversation_with_sms(client, admin, run_jobs, channel) -> Conversation:
    twilio_post(client, channel, fixture("inbound_text.form"))
    run_jobs()
    return Conversation.objects.get()


def test_reply_is_sent_through_twilio_and_status_callbacks_apply(client, admin, run_jobs, provider):
    sid = "SM" + "a" * 32
    provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                   fixture("send_response.json", sid="a" * 32).encode())
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    conversation = _conversation_with_sms(client, admin, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "Your parcel ships today 🚚")
    run_jobs()
    call = provider.calls("POST")[0]
    form = call.form()
    assert form["To"] == ["+14155552671"] and form["From"] == ["+15017122661"]
    assert form["Body"] == ["Your parcel ships today 🚚"]
    assert form["StatusCallback"] == [f"{PUBLIC_URL}/hooks/sms/{channel.pk}/"]
    reply.refresh_from_db()
    assert (reply.status, reply.provider_message_id) == ("sent", sid)
    twilio_post(client, channel, fixture("status_delivered.form", sid="a" * 32))
    twilio_post(client, channel, fixture("status_scheduled.form", sid="a" * 32))  # unknown to us: acknowledged
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "delivered"
    twilio_post(client, channel, fixture("status_undelivered.form", sid="a" * 32))
    run_jobs()
    reply.refresh_from_db()
    assert reply.status == "failed" and "30003" in reply.status_reason
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_permanent_and_transient_send_errors(client, admin, run_jobs, provider):
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    provider.route("POST", path, 503, b"busy")
    provider.route("POST", path, 400, fixture("send_error_21610.json").encode(), then=True)
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    conversation = _conversation_with_sms(client, admin, run_jobs, channel)
    with transaction.atomic():
        reply = do_send_reply(admin, conversation, "hello")
    run_jobs()
    Job.objects.filter(task__endswith="deliver_message_task").update(run_after=now())
    run_jobs()
    reply.refresh_from_db()
    assert len(provider.calls("POST", path)) == 2  # retried once after the 503
    assert reply.status == "failed" and "unsubscribed recipient" in reply.status_reason


def test_outbound_media_goes_as_signed_links_twilio_can_fetch(client, admin, run_jobs, provider):
    provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                   fixture("send_response.json", sid="b" * 32).encode())
    channel = make_twilio_channel(admin, api_base_url=provider.url)
    conversation = _conversation_with_sms(client, admin, run_jobs, channel)
    with transaction.atomic():
        do_send_reply(admin, conversation, "the label", attachments=[("label.png", "image/png", b"\x89PNGlabel")])
    run_jobs()
    link = provider.calls("POST")[0].form()["MediaUrl"][0]
    assert link.startswith(f"{PUBLIC_URL}/hooks/sms/{channel.pk}/?media=")
    fetched = client.get(link.removeprefix(PUBLIC_URL))
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == b"\x89PNGlabel"
    assert client.get(link.removeprefix(PUBLIC_URL)[:-3] + "xyz").status_code == 404


@pytest.mark.parametrize("word", ["Stop", "הסר", "ARRÊT", "หยุด", "odhlásit!"])
def test_stop_keywords_block_sending_until_start(client, admin, run_jobs, word):
    channel = make_twilio_channel(admin)
    conversation = _conversation_with_sms(client, admin, run_jobs, channel)
    body = fixture("inbound_stop.form").replace("OptOutType=STOP&", "").replace(
        "Body=Stop", "Body=" + quote_plus(word))
    twilio_post(client, channel, body)
    run_jobs()
    record = ConsentRecord.objects.get()
    assert (record.action, record.address) == ("opt_out", "+14155552671")
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        do_send_reply(admin, conversation, "are you there?")
    assert refused.value.code == "no_consent"
    sms = [r for r in reachable_channels(conversation) if r.kind == "sms"][0]
    assert (sms.reachable, sms.code) == (False, "no_consent")
    start = body.replace("SM0c1d", "SM9c1d").replace("Body=" + quote_plus(word),
                                                     "Body=START")
    twilio_post(client, channel, start)
    run_jobs()
    with transaction.atomic():
        do_send_reply(admin, conversation, "welcome back")
    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["opt_out", "opt_in"]


def test_provider_reported_opt_out_and_plain_sentences_are_not_keywords(client, admin, run_jobs):
    channel = make_twilio_channel(admin)
    twilio_post(client, channel, fixture("inbound_stop.form"))
    run_jobs()
    assert ConsentRecord.objects.get().source == "provider"
    sentence = fixture("inbound_text.form").replace("SM1f0e", "SM2f0e").replace(
        "Body=Hi%2C+my+order+1001+has+not+arrived", "Body=please+stop+the+order")
    twilio_post(client, channel, sentence)
    run_jobs()
    assert ConsentRecord.objects.count() == 1
    assert ContactIdentity.objects.count() == 1


def test_segment_counts_are_shown_before_sending(client, admin, run_jobs):
    channel = make_twilio_channel(admin)
    conversation = _conversation_with_sms(client, admin, run_jobs, channel)
    sms = [r for r in reachable_channels(conversation, text="שלום " * 20) if r.kind == "sms"][0]
    assert sms.reachable
    assert sms.details["segmentation"]["encoding"] == "UCS-2"
    assert sms.details["segmentation"]["segments"] == 2  # 100 UCS-2 characters > 70: 67 per part


@pytest.mark.parametrize(("text", "encoding", "parts"), [
    ("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2), ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1), ("€" * 81, "GSM-7", 2), ("a" * 152 + "€", "GSM-7", 1), ("a" * 153 + "€" * 4, "GSM-7", 2),
    ("ש" * 70, "UCS-2", 1), ("ש" * 71, "UCS-2", 2), ("ש" * 134, "UCS-2", 2), ("ש" * 135, "UCS-2", 3),
    ("😀" * 35, "UCS-2", 1), ("😀" * 36, "UCS-2", 2), ("", "GSM-7", 0),
])
def test_segmentation(text, encoding, parts):
    result = segment(text)
    assert (result.encoding, result.segments) == (encoding, parts)


def test_segment_never_splits_an_escape_or_surrogate_pair():
    # 152 GSM characters then "€" (2 septets) would straddle the 153-septet boundary: it moves to part 2.
    result = segment("a" * 152 + "€" + "a" * 10)
    assert result.segments == 2 and result.remaining == 153 - 12
    emoji = segment("a" + "😀" * 34)  # 69 UTF-16 units: one part; one more emoji overflows
    assert emoji.segments == 1
    split = segment("a" * 66 + "😀" + "ש" * 3)  # 71 units; the emoji would straddle units 67 and 68
    assert (split.segments, split.remaining) == (2, 67 - 5)
