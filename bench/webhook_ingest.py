"""Benchmark: a mix of signed provider webhooks (Twilio SMS, WhatsApp Cloud API, Messenger, Telegram, LINE,
WeChat in safe mode) against a real `threadline serve` process.

Starts `threadline serve` (SQLite in a temporary data dir, or a throwaway database on --database-url) with
THREADLINE_PUBLIC_URL set to its own address (Twilio signs the public URL), a fake provider API on loopback
(profiles, WeChat tokens) and one channel of each kind. C concurrent clients then POST N webhooks, round
robin over the kinds, each signed exactly as the provider signs it (Twilio HMAC-SHA1 over URL + sorted form;
Meta X-Hub-Signature-256; Telegram secret token; LINE X-Line-Signature; WeChat msg_signature over an
AES-256-CBC encrypted body), from M distinct senders per kind. It reports, overall and per kind:

- accepted webhooks/s: N over the time from the first POST to the last answer;
- ack latency: POST to the provider's answer (202, or WeChat's `success`) — the payload is stored and
  committed at that point (InboundEvent);
- stored-and-threaded latency: POST start to the InboundEvent's `processed_at`, set in the transaction that
  stores the Message and threads it into the contact's conversation (same machine, wall clocks).

Not a test: nothing is asserted. Run `python bench/webhook_ingest.py --help`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from ingest import percentile, run_clients, say

from threadline.channels.fake_provider import FakeProvider
from threadline.testing.server import ServerProcess, free_port, throwaway_database

PASSWORD = "bench-password-7d2e9b1a"
KINDS = ("sms", "whatsapp", "messenger", "telegram", "line", "wechat")
TWILIO_TOKEN, META_SECRET, TG_SECRET, LINE_SECRET = "tw" * 16, "meta-secret-bench", "tg_bench_secret_0123456789", "line-bench"
WX_TOKEN, WX_APP, WX_AES = "wxbenchtoken", "wxbench0000000001", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TEXTS = ("Hi, my order #{n} arrived damaged", "שלום, ההזמנה {n} לא הגיעה", "سلام، سفارش {n} نرسیده",
         "สวัสดีค่ะ คำสั่งซื้อ {n}", "Dobrý den, objednávka {n}")

SETUP = """
import json
from django.db import transaction
from threadline.channels.actions import do_create_channel
from threadline.tenancy.models import Membership
admin = Membership.objects.filter(user__email="bench@example.com").first()
fake = {fake!r}
configs = {{
  "sms": {{"account_sid": "AC" + "b" * 32, "auth_token": {twilio!r}, "from_number": "+15017122661", "api_base_url": fake}},
  "whatsapp": {{"phone_number_id": "1065", "business_account_id": "1022", "access_token": "EAAG-bench",
               "app_secret": {meta!r}, "verify_token": "verify-bench", "graph_base_url": fake}},
  "messenger": {{"page_id": "1042", "access_token": "EAAG-bench", "app_secret": {meta!r}, "verify_token": "verify-bench",
                "graph_base_url": fake}},
  "telegram": {{"bot_token": "7000000001:bench-token", "secret_token": {tg!r}, "api_base_url": fake}},
  "line": {{"channel_secret": {line!r}, "channel_access_token": "line-bench", "api_base_url": fake, "data_api_base_url": fake}},
  "wechat": {{"app_id": {wx_app!r}, "app_secret": "wx-bench-secret", "token": {wx_token!r}, "encoding_aes_key": {wx_aes!r},
             "mode": "safe", "api_base_url": fake}},
}}
with transaction.atomic():
    ids = {{kind: do_create_channel(admin, kind, "Bench " + kind, config).pk for kind, config in configs.items()}}
print(json.dumps(ids))
"""

COLLECT = """
import json, time
from threadline.channels.models import InboundEvent
deadline = time.monotonic() + {timeout}
while InboundEvent.objects.filter(state="received").exists() and time.monotonic() < deadline:
    time.sleep(0.2)
rows = InboundEvent.objects.values_list("id", "channel_id", "idempotency_key", "state", "processed_at")
print(json.dumps([[i, c, k, s, at.timestamp() if at and s == "processed" else None] for i, c, k, s, at in rows]))
"""


def twilio(url: str, number: int, who: int) -> tuple[bytes, dict[str, str], str]:
    sid = f"SM{number:032x}"
    params = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "b" * 32, "From": f"+1415555{who:04d}",
              "To": "+15017122661", "Body": TEXTS[number % len(TEXTS)].format(n=number), "NumMedia": "0",
              "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    data = url + "".join(k + params[k] for k in sorted(params))
    sig = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return urlencode(params).encode(), {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}, sid


def meta_headers(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def whatsapp(number: int, who: int) -> tuple[bytes, dict[str, str], str]:
    wamid = f"wamid.bench{number}"
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1022", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1065"},
        "contacts": [{"profile": {"name": f"Customer {who}"}, "wa_id": f"1650555{who:04d}"}],
        "messages": [{"from": f"1650555{who:04d}", "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": TEXTS[number % len(TEXTS)].format(n=number)}}]}}]}]}, ensure_ascii=False).encode()
    return body, meta_headers(body), ""


def messenger(number: int, who: int) -> tuple[bytes, dict[str, str], str]:
    body = json.dumps({"object": "page", "entry": [{"id": "1042", "time": int(time.time() * 1000), "messaging": [{
        "sender": {"id": f"65{who:014d}"}, "recipient": {"id": "1042"}, "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_bench{number}", "text": TEXTS[number % len(TEXTS)].format(n=number)}}]}]},
        ensure_ascii=False).encode()
    return body, meta_headers(body), ""


def telegram(number: int, who: int) -> tuple[bytes, dict[str, str], str]:
    user = {"id": 500000 + who, "is_bot": False, "first_name": f"Customer{who}", "language_code": "he"}
    body = json.dumps({"update_id": 100000 + number, "message": {
        "message_id": number, "from": user, "chat": {**user, "type": "private"}, "date": int(time.time()),
        "text": TEXTS[number % len(TEXTS)].format(n=number)}}, ensure_ascii=False).encode()
    return body, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}, ""


def line(number: int, who: int) -> tuple[bytes, dict[str, str], str]:
    body = json.dumps({"destination": "Ubench", "events": [{
        "type": "message", "webhookEventId": f"01BENCH{number:019d}", "deliveryContext": {"isRedelivery": False},
        "timestamp": int(time.time() * 1000), "source": {"type": "user", "userId": f"U{who:032x}"},
        "replyToken": f"rt{number}", "mode": "active",
        "message": {"type": "text", "id": str(900000 + number), "text": TEXTS[number % len(TEXTS)].format(n=number)}}]},
        ensure_ascii=False).encode()
    sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return body, {"X-Line-Signature": sig, "Content-Type": "application/json"}, ""


def wechat(number: int, who: int) -> tuple[bytes, dict[str, str], str, str]:
    from threadline.channels.wechat import crypto

    msg_id = str(7000000000000000 + number)
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench{who:022d}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{TEXTS[number % len(TEXTS)].format(n=number)}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    encrypted = crypto.encrypt(WX_AES, WX_APP, xml.encode())
    timestamp, nonce = str(int(time.time())), str(number)
    query = urlencode({"signature": crypto.sha1_signature(WX_TOKEN, timestamp, nonce), "timestamp": timestamp,
                       "nonce": nonce, "encrypt_type": "aes",
                       "msg_signature": crypto.sha1_signature(WX_TOKEN, timestamp, nonce, encrypted)})
    body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    return body, {"Content-Type": "text/xml"}, msg_id, query


def fake_provider() -> FakeProvider:
    fake = FakeProvider().start()
    fake.route("GET", "/cgi-bin/token", 200, {"access_token": "WX_BENCH_TOKEN", "expires_in": 7200})
    return fake  # everything else (profiles) answers 200 {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1200, help="webhooks to post (default 1200)")
    parser.add_argument("--concurrency", type=int, default=12, help="concurrent clients (default 12)")
    parser.add_argument("--senders", type=int, default=50, help="distinct senders per kind (default 50)")
    parser.add_argument("--rate", type=float, default=0,
                        help="pace the posts at this many webhooks/s in total (default 0: as fast as possible)")
    parser.add_argument("--database-url", help="PostgreSQL server to use (a throwaway database is created on it)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for processing (default 600)")
    args = parser.parse_args()

    fake = fake_provider()
    data_dir = Path(tempfile.mkdtemp(prefix="threadline-webhook-bench-"))
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with throwaway_database(args.database_url, prefix="tlwhbench") as url, ServerProcess(
        data_dir, database_url=url, THREADLINE_ADMIN_EMAIL="bench@example.com", THREADLINE_ADMIN_PASSWORD=PASSWORD,
        THREADLINE_LOG_LEVEL="WARNING", THREADLINE_PUBLIC_URL=public, THREADLINE_OUTBOUND_ALLOW_PRIVATE="1",
    ) as server:
        server.start(port=port)
        ids = json.loads(server.shell(SETUP.format(
            fake=fake.url, twilio=TWILIO_TOKEN, meta=META_SECRET, tg=TG_SECRET, line=LINE_SECRET, wx_app=WX_APP,
            wx_token=WX_TOKEN, wx_aes=WX_AES)).splitlines()[-1])

        def post(client: httpx.Client, number: int) -> tuple:
            kind = KINDS[number % len(KINDS)]
            who = (number // len(KINDS)) % args.senders
            path, query, key = f"/hooks/{kind}/{ids[kind]}/", "", ""
            if kind == "sms":
                body, headers, key = twilio(public + path, number, who)
            elif kind == "wechat":
                body, headers, key, query = wechat(number, who)
            else:
                body, headers, key = {"whatsapp": whatsapp, "messenger": messenger, "telegram": telegram,
                                      "line": line}[kind](number, who)
            wall, t0 = time.time(), time.perf_counter()
            response = client.post(f"{server.url}{path}{'?' + query if query else ''}", content=body, headers=headers)
            ok = response.status_code == 202 or (kind == "wechat" and response.content == b"success")
            event_id = response.json().get("inbound_event_id") if response.status_code == 202 else None
            return kind, wall, time.perf_counter() - t0, ok, event_id, key

        seconds, posted = run_clients(args.concurrency, list(range(args.messages)), post, args.rate)
        rows = json.loads(server.shell(COLLECT.format(timeout=args.timeout), timeout=args.timeout + 60).splitlines()[-1])
        stop_code = server.stop()
        errors = server.errors()
    fake.stop()
    by_id = {row[0]: row[4] for row in rows}
    by_key = {(row[1], row[2]): row[4] for row in rows}
    accepted = [p for p in posted if p[3]]
    say(f"threadline bench/webhook_ingest.py: {args.messages} webhooks over {len(KINDS)} providers "
        f"({f'paced at {args.rate:g}/s' if args.rate else 'unpaced'}), "
        f"{args.concurrency} clients, {args.senders} senders per provider, "
        f"{'PostgreSQL (throwaway database)' if url else 'SQLite (WAL)'}; one `threadline serve` process")
    say(f"  accepted {len(accepted)}/{args.messages} in {seconds:.1f}s: {len(accepted) / seconds:,.0f} webhooks/s")
    say(f"  {'kind':10} {'n':>5} {'ack p50/p95/p99 ms':>22} {'stored+threaded p50/p95/p99 ms':>32}")
    done: list[float] = []
    for kind in (*KINDS, "all"):
        mine = [p for p in accepted if kind in ("all", p[0])]
        ack = [p[2] * 1000 for p in mine]
        e2e = []
        for kind_of, wall, _ack, _ok, event_id, key in mine:
            at = by_id.get(event_id) if event_id is not None else by_key.get((ids[kind_of], key))
            if at:
                e2e.append((at - wall) * 1000)
                if kind == "all":
                    done.append(at)
        say(f"  {kind:10} {len(mine):>5} {'/'.join(f'{percentile(ack, q):.1f}' for q in (50, 95, 99)):>22} "
            f"{'/'.join(f'{percentile(e2e, q):.0f}' for q in (50, 95, 99)):>32}")
    if done:
        first = min(p[1] for p in accepted)
        say(f"  processed end to end: {len(done)} in {max(done) - first:.1f}s: {len(done) / (max(done) - first):,.0f} "
            f"messages/s stored and threaded; not processed in time: {len(accepted) - len(done)}")
    if stop_code != 0:
        say(f"server exited with {stop_code}:\n{errors[-2000:]}", err=True)
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
