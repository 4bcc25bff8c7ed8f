"""Issue 10, hole 6: SSRF through the email channel and webhook URLs.

The SMTP relay and IMAP host follow the same private-address policy as webhooks (tested with the policy on:
the suite's autouse fixture turns it off), are resolved once and connected to the checked address (no DNS
rebinding), and their failures read the same whatever the port did. Private URLs are refused when saved.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest

from threadline.channels.base import PermanentSendError, TransientSendError
from threadline.channels.email import imap, sending
from threadline.channels.email.adapter import ImapConfig
from threadline.core import http
from threadline.testing import factories


@pytest.fixture
def policy_on(settings):
    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": False}


class Listener:
    """A TCP port on loopback that counts connections and then behaves as told (silent, or garbage)."""

    def __init__(self, greeting: bytes = b"") -> None:
        self.greeting = greeting
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            if self.greeting:
                conn.sendall(self.greeting)
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def call(client, token, method, path, body):
    return getattr(client, method)(f"/api/v1{path}", data=json.dumps(body), content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")


def test_private_destinations_are_refused_when_saved(client, admin, policy_on):
    token = factories.make_token(admin)
    for kind, config, field in [
        ("email", {"address": "support@acme.test", "relay_url": "smtp://user:pw@127.0.0.1:2525"}, "config.relay_url"),
        ("email", {"address": "support@acme.test", "relay_url": "smtps://[::1]:465"}, "config.relay_url"),
        ("email", {"address": "support@acme.test", "imap": {"host": "localhost", "username": "u"}},
         "config.imap.host"),
        ("email", {"address": "support@acme.test", "imap": {"host": "169.254.169.254", "username": "u"}},
         "config.imap.host"),
        ("api", {"webhook_url": "http://10.0.0.7/replies"}, "config.webhook_url"),
        ("api", {"webhook_url": "http://127.0.0.1:8000/metrics"}, "config.webhook_url"),
    ]:
        answer = call(client, token, "post", "/channels", {"kind": kind, "name": "C", "config": config})
        assert answer.status_code == 400, (config, answer.content)
        assert answer.json()["code"] == "private_destination"
        assert answer.json().get("field") in (field, None)
    for url in ("http://192.168.1.1/hook", "https://[::ffff:127.0.0.1]/x", "http://localhost:6379/"):
        answer = call(client, token, "post", "/webhooks", {"url": url, "event_types": ["*"]})
        assert answer.status_code == 400, (url, answer.content)
        assert answer.json()["code"] == "private_destination"
    public = call(client, token, "post", "/webhooks", {"url": "https://93.184.216.34/hook", "event_types": ["*"]})
    assert public.status_code == 201
    patched = call(client, token, "patch", f"/webhooks/{public.json()['id']}", {"url": "http://127.0.0.1/"})
    assert patched.status_code == 400


def test_a_private_relay_or_mailbox_is_never_connected(settings, admin, listener, policy_on):
    relay = sending.parse_relay(f"smtp://127.0.0.1:{listener.port}")
    with pytest.raises(PermanentSendError) as refused:
        sending.deliver(relay, b"Subject: x\r\n\r\nhi\r\n", "a@acme.test", ["b@example.com"])
    assert "private" in str(refused.value)
    with pytest.raises(imap.MailboxUnreachable) as unreachable:
        imap.connect(ImapConfig(host="127.0.0.1", port=listener.port, username="u", security="none"))
    assert str(unreachable.value) == imap.COULD_NOT_CONNECT
    assert listener.accepted == 0
    # the operator's own THREADLINE_SMTP_RELAY_URL is trusted (a local postfix), a workspace's is not
    operator = sending.parse_relay(f"smtp://127.0.0.1:{listener.port}", trusted=True)
    with pytest.raises(TransientSendError):
        sending.deliver(operator, b"Subject: x\r\n\r\nhi\r\n", "a@acme.test", ["b@example.com"])
    assert listener.accepted == 1


def test_connection_failures_read_the_same_whatever_the_port_did(listener):
    garbage = Listener(greeting=b"SSH-2.0-OpenSSH_9.6\r\n")
    try:
        messages, mailbox_messages = set(), set()
        for port in (closed_port(), listener.port, garbage.port):
            with pytest.raises(TransientSendError) as failed:
                sending.deliver(sending.parse_relay(f"smtp://127.0.0.1:{port}"), b"x", "a@acme.test", ["b@x.test"])
            messages.add(str(failed.value))
            with pytest.raises(imap.MailboxUnreachable) as unreachable:
                imap.connect(ImapConfig(host="127.0.0.1", port=port, username="u", security="none"))
            mailbox_messages.add(str(unreachable.value))
        assert messages == {sending.COULD_NOT_CONNECT}
        assert mailbox_messages == {imap.COULD_NOT_CONNECT}
        assert str(closed_port()) not in sending.COULD_NOT_CONNECT
    finally:
        garbage.close()


@pytest.fixture
def rebinding(monkeypatch):
    """`rebind.test` answers a public address first and loopback afterwards (a DNS-rebinding attacker). The
    public address stands for the attacker's own server: connecting there is recorded and refused here."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    asked: list[str] = []
    public: list[tuple] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.test":
            address = "93.184.216.34" if not asked else "127.0.0.1"
            asked.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        if address[0] == "93.184.216.34":
            public.append(address)
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return asked, public


def test_a_host_is_resolved_once_and_connected_to_the_checked_address(receiver, listener, rebinding, policy_on):
    asked, public = rebinding
    with pytest.raises(http.httpx.ConnectError):
        http.post(f"http://rebind.test:{receiver.server.server_address[1]}/inbox", content=b"{}", headers={})
    assert receiver.requests == [] and asked == ["93.184.216.34"]
    assert public == [("93.184.216.34", receiver.server.server_address[1])]
    asked.clear()
    with pytest.raises(TransientSendError):
        sending.deliver(sending.parse_relay(f"smtp://rebind.test:{listener.port}"), b"x", "a@acme.test", ["b@x.test"])
    asked.clear()
    with pytest.raises(imap.MailboxUnreachable):
        imap.connect(ImapConfig(host="rebind.test", port=listener.port, username="u", security="none"))
    assert listener.accepted == 0 and asked == ["93.184.216.34"]
    assert len(public) == 3


def test_webhook_delivery_logs_read_the_same_whatever_the_port_did(api, admin, client, run_jobs):
    from threadline.conversations.tests.builders import inbound_conversation, send_json
    from threadline.webhooks.models import WebhookDelivery

    conversation = inbound_conversation(client, factories.make_api_channel(admin), run_jobs, "m-1", "d@example.com")
    garbage = Listener(greeting=b"SSH-2.0-OpenSSH_9.6\r\n")
    try:
        for port in (closed_port(), garbage.port):
            answer = send_json(api, "post", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook",
                                                                  "event_types": ["conversation.updated"]})
            assert answer.status_code == 201
        send_json(api, "patch", f"/api/v1/conversations/{conversation.pk}", {"status": "solved"})
        run_jobs()
        errors = set(WebhookDelivery.objects.filter(subscription__url__contains="/hook").values_list("last_error",
                                                                                                      flat=True))
        assert errors == {http.COULD_NOT_CONNECT}, errors
    finally:
        garbage.close()
