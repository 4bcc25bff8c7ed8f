"""Test helpers for the email channel: a channel builder, the listener on a free port, an SMTP sink, Dovecot.

Used by `channels/email/tests/` and `tests/test_email_*.py` (import the fixtures into the test module).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel
from threadline.tenancy.models import Membership

FIXTURES = Path(__file__).parent / "fixtures"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_email_channel(admin: Membership, address: str = "support@acme.test", **config: Any) -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, "email", f"Email {address}", {"address": address, **config},
                                 routing_key=address)


def cpython_email_data() -> Path:
    """CPython's own test_email/data folder for this interpreter."""
    try:
        import test.test_email as package

        return Path(package.__file__).parent / "data"
    except ImportError:
        import sysconfig

        return Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[str, str]:
    """A throwaway certificate and key for STARTTLS/IMAPS tests (PEM files in `directory`)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    moment = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(moment - dt.timedelta(days=1))
        .not_valid_after(moment + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


# ── an SMTP sink: the relay Threadline sends through ─────────────────────────────────────────────────
@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)

    @property
    def message(self) -> EmailMessage:
        """The message as a client reads it (raw UTF-8 headers of an SMTPUTF8 message decoded as UTF-8)."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError:
            return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]
        return message_from_string(text, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SinkHandler:
    answers: list[str] = field(default_factory=list)  # DATA answers to give first ("451 ...", "550 ...")
    received: list[Captured] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls_sessions: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tls_sessions.append(session.ssl is not None)
        if self.answers:
            return self.answers.pop(0)
        self.received.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                      list(envelope.mail_options)))
        return "250 2.0.0 OK"


class SmtpSink:
    """A real SMTP server on loopback recording what it is sent (optionally with STARTTLS and AUTH; with
    `smtputf8=False` it does not offer SMTPUTF8, like many relays, and refuses internationalised addresses)."""

    def __init__(self, *, tls: bool = False, auth: tuple[str, str] | None = None, smtputf8: bool = True) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="tl-sink-"))
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
        if tls:
            import ssl

            cert, key = self_signed_cert(self.tmp)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs.update(tls_context=context, require_starttls=True)
        if auth:
            def check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> Any:
                from aiosmtpd.smtp import AuthResult, LoginPassword

                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == auth
                if ok:
                    self.handler.logins.append(auth)
                return AuthResult(success=ok)

            kwargs.update(authenticator=check, auth_required=True, auth_require_tls=tls)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def running_sink() -> Iterator[SmtpSink]:
    """For a fixture: `yield from running_sink()`."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def running_listener() -> Iterator[int]:
    """For a fixture (with `transactional_db`): Threadline's SMTP listener on a free port; yields the port."""
    from threadline.channels.email import smtp_server

    port = free_port()
    listener = smtp_server.start(port)
    yield port
    smtp_server.stop(listener)


# ── Dovecot: a real IMAP server for the poller ───────────────────────────────────────────────────────
class Dovecot:
    """A private Dovecot (Debian's dovecot-imapd) on a free loopback port, with one user and a Maildir."""

    def __init__(self, *, user: str = "support", password: str = "imap-secret", tls: bool = False) -> None:
        self.user, self.password = user, password
        self.root = Path(tempfile.mkdtemp(prefix="tl-dovecot-"))
        self.port = free_port()
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("dovecot") or (shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin"))

    def _config(self) -> Path:
        import grp
        import pwd

        if os.getuid() == 0:  # Dovecot refuses to run its login and mail processes as root
            me, login = "dovecot", "dovenull"
            mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
        else:
            me = login = pwd.getpwuid(os.getuid()).pw_name
            mail_uid, mail_gid = os.getuid(), os.getgid()
        group = grp.getgrgid(pwd.getpwnam(me).pw_gid).gr_name
        self.root.chmod(0o755)
        (self.root / "run").mkdir(exist_ok=True)
        home = self.root / "home" / self.user
        home.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            os.chown(self.root / "home", mail_uid, mail_gid)
            os.chown(home, mail_uid, mail_gid)
        (self.root / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{mail_uid}:{mail_gid}::{home}\n"
        )
        ssl_lines = "ssl = no\n"
        if self.tls:
            cert, key = self_signed_cert(self.root)
            ssl_lines = f"ssl = required\nssl_cert = <{cert}\nssl_key = <{key}\n"
        config = self.root / "dovecot.conf"
        config.write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/run/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {me}
default_internal_group = {group}
default_login_user = {login}
mail_location = maildir:~/Maildir
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port if not self.tls else 0}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port if self.tls else 0}
  }}
  chroot =
}}
service imap {{
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
service auth {{
  chroot =
}}
service log {{
  chroot =
}}
service config {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")
        return config

    def start(self) -> Dovecot:
        binary = self.binary()
        assert binary, "dovecot is not installed"
        config = self._config()
        self.process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        err = self.process.stderr.read().decode() if self.process.stderr and self.process.poll() is not None else ""
        self.stop(cleanup=False)
        raise RuntimeError(f"dovecot did not start: {err}\n{log}")

    def stop(self, *, cleanup: bool = True) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if cleanup:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self.stop(cleanup=False)
        self.start()

    def client(self) -> Any:
        from imapclient import IMAPClient

        if self.tls:
            import ssl

            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            client = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=context, timeout=10)
        else:
            client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        with self.client() as client:
            client.append(mailbox, raw)


def require_dovecot() -> None:
    """Skip (with the reason) when Dovecot is missing on a developer machine; fail on CI."""
    if Dovecot.binary():
        return
    if os.environ.get("CI"):
        pytest.fail("dovecot is not installed, but CI must run the IMAP tests (apt-get install dovecot-imapd)")
    pytest.skip("dovecot is not installed (apt-get install dovecot-imapd); the IMAP tests need a real server")


def running_dovecot() -> Iterator[Dovecot]:
    """For a fixture: `yield from running_dovecot()` (skips or fails as `require_dovecot` says)."""
    require_dovecot()
    server = Dovecot().start()
    yield server
    server.stop()


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` passes (a bound on waiting, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


__all__ = [
    "FIXTURES", "Captured", "Dovecot", "SmtpSink", "cpython_email_data", "free_port", "make_email_channel",
    "require_dovecot", "running_dovecot", "running_listener", "running_sink", "self_signed_cert",
    "wait_for",
]
