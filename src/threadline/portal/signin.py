"""Passwordless sign-in to the portal, and the customers' sessions.

- By email: the form answers the same whatever the address (`request_link` only enqueues
  `send_link_task`, which looks the address up and mails a one-time link when a contact has it).
- By phone: the same answer whatever the number (`request_code` enqueues `send_code_task`, which sends a
  6-digit code by SMS or WhatsApp to a *verified* identity with that number). Codes are stored as an HMAC,
  compared in constant time, spent after MAX_CODE_ATTEMPTS wrong tries, and wrong codes are throttled per
  number and client address (`core/throttle.py`).
- A session is a random cookie (`COOKIE`, its SHA-256 stored in `PortalSession`), apart from Django's
  session: an agent's session is no customer's and a customer's opens nothing under /app/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils.translation import gettext as _

from threadline.contacts import identities
from threadline.contacts.actions import do_add_identity
from threadline.contacts.models import Contact, ContactIdentity, IdentityKind
from threadline.core import crypto
from threadline.core.errors import Conflict, PermissionDenied, ValidationFailed
from threadline.core.throttle import Throttle
from threadline.core.time import now
from threadline.portal import links
from threadline.portal.models import PortalSession, SignInCode, SignInLink
from threadline.portal.queries import PSEUDO_PREFIX, followed
from threadline.tenancy.models import Workspace

COOKIE = "tl_portal"
SESSION_LIFETIME = dt.timedelta(hours=12)
CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
LINK_REQUESTS = Throttle("portal_link")  # every request counts, whether or not the address is known
CODE_REQUESTS = Throttle("portal_code_request")
WRONG_CODES = Throttle("portal_code")
PHONE_KINDS = (IdentityKind.PHONE, IdentityKind.WHATSAPP)


class Throttled(PermissionDenied):
    def __init__(self, seconds: int) -> None:
        minutes = max(1, (seconds + 59) // 60)
        super().__init__(_("Too many attempts. Try again in %(n)d minutes.") % {"n": minutes}, code="throttled")
        self.retry_after = seconds


def _count(throttle: Throttle, account: str, client: str) -> None:
    """Refuse while the client is locked out of `account`, then count this try."""
    wait = throttle.retry_after(account, client)
    if wait:
        raise Throttled(wait)
    throttle.failed(account, client)


# ── by email ─────────────────────────────────────────────────────────────────────────────────────────
def safe_next(workspace: Workspace, next_path: str) -> str:
    """A path inside this workspace's portal, else the portal's home (never another site)."""
    root = links.portal_root(workspace)
    return next_path if next_path.startswith(root) and "//" not in next_path and "\\" not in next_path else root


def request_link(workspace: Workspace, email: str, client: str, *, next_path: str = "") -> None:
    """Accept a sign-in link request; the link is mailed by a job when the address is known."""
    from threadline.portal.tasks import send_link_task

    address = identities.normalize(IdentityKind.EMAIL, email)
    _count(LINK_REQUESTS, f"{workspace.pk}:{address}", client)
    send_link_task.enqueue(workspace.pk, address, safe_next(workspace, next_path))


def contact_for_email(workspace: Workspace, address: str) -> Contact | None:
    """The contact an address signs in as: the one with it as an email identity, else the pseudo-contact of
    the address typed in a public form."""
    for kind, value in ((IdentityKind.EMAIL, address), (IdentityKind.EXTERNAL, PSEUDO_PREFIX + address)):
        identity = ContactIdentity.objects.filter(workspace=workspace, kind=kind, address=value).first()
        if identity is not None:
            return followed(identity.contact)
    return None


def _prove_email(contact: Contact, address: str) -> None:
    """The holder of `address` opened a link sent to it: the address is now a verified identity of theirs
    (unless another contact has it: an agent merges)."""
    identity = ContactIdentity.objects.filter(workspace_id=contact.workspace_id, kind=IdentityKind.EMAIL,
                                              address=address).first()
    if identity is None:
        try:
            do_add_identity(contact, IdentityKind.EMAIL, address, verified=True, source="portal")
        except Conflict:
            pass
    elif not identity.verified:
        identity.verified = True
        identity.save(update_fields=["verified", "updated_at"])


def do_use_link(workspace: Workspace, token: str) -> tuple[str, str]:
    """Spend a one-time link: (the new session's cookie value, where to go)."""
    link = links.do_spend_link(workspace, token)
    contact = followed(link.contact) if link.contact_id else None
    if contact is None and link.email:
        contact = contact_for_email(workspace, link.email)
    if contact is None:
        raise PermissionDenied(_("This sign-in link has expired or was already used. Ask for a new one."),
                               code="link_invalid")
    if link.email and link.purpose != SignInLink.Purpose.NOTIFICATION:
        _prove_email(contact, link.email)
    conversation = link.conversation if link.purpose == SignInLink.Purpose.NOTIFICATION else None
    cookie = do_start_session(workspace, contact, email=link.email, conversation=conversation)
    return cookie, safe_next(workspace, link.next_path)


# ── by phone ─────────────────────────────────────────────────────────────────────────────────────────
def normalize_phone(workspace: Workspace, phone: str) -> str:
    return identities.normalize(IdentityKind.PHONE, phone, region=workspace.default_region)


def request_code(workspace: Workspace, phone: str, client: str) -> str:
    """Accept a code request; a job sends the code when a verified identity has the number. Returns the
    normalized number (the code form carries it)."""
    from threadline.portal.tasks import send_code_task

    number = normalize_phone(workspace, phone)
    _count(CODE_REQUESTS, f"{workspace.pk}:{number}", client)
    send_code_task.enqueue(workspace.pk, number)
    return number


def verified_phone_identity(workspace: Workspace, number: str) -> ContactIdentity | None:
    return (ContactIdentity.objects.filter(workspace=workspace, kind__in=PHONE_KINDS, verified=True,
                                           address__in=[number, number.lstrip("+")])
            .select_related("contact").order_by("id").first())


def _digest(code_id: int, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"portal-code:{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def do_issue_code(identity: ContactIdentity, number: str) -> str:
    """A new 6-digit code for `identity` (earlier unspent ones are spent); returns it to be sent."""
    SignInCode.objects.filter(workspace_id=identity.workspace_id, phone=number, used_at__isnull=True).update(
        used_at=now())
    code = f"{secrets.randbelow(10 ** 6):06d}"
    row = SignInCode.objects.create(workspace_id=identity.workspace_id, identity=identity, phone=number, digest="",
                                    expires_at=now() + CODE_LIFETIME)
    row.digest = _digest(row.pk, code)
    row.save(update_fields=["digest"])
    return code


def do_check_code(workspace: Workspace, phone: str, code: str, client: str) -> str:
    """Sign in with a code: the new session's cookie value, else PermissionDenied (`wrong_code`, the same
    for an unknown number) or Throttled."""
    try:
        number = normalize_phone(workspace, phone)
    except ValidationFailed:
        number = ""
    account = f"{workspace.pk}:{number}"
    wait = WRONG_CODES.retry_after(account, client)
    if wait:
        raise Throttled(wait)
    row = (SignInCode.objects.filter(workspace=workspace, phone=number, used_at__isnull=True, expires_at__gt=now())
           .select_related("identity__contact").order_by("-id").first()) if number else None
    given = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if row is None or not crypto.constant_time_equals(_digest(row.pk, given), row.digest):
        if row is not None:
            row.attempts += 1
            fields = ["attempts", "updated_at"]
            if row.attempts >= MAX_CODE_ATTEMPTS:
                row.used_at = now()
                fields.append("used_at")
            row.save(update_fields=fields)
        WRONG_CODES.failed(account, client)
        raise PermissionDenied(_("That code is wrong or has expired."), code="wrong_code")
    spent = SignInCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now())
    if not spent:
        raise PermissionDenied(_("That code is wrong or has expired."), code="wrong_code")
    WRONG_CODES.succeeded(account, client)
    contact = followed(row.identity.contact)
    return do_start_session(workspace, contact)


# ── sessions ─────────────────────────────────────────────────────────────────────────────────────────
def do_start_session(workspace: Workspace, contact: Contact, *, email: str = "", conversation=None) -> str:
    raw = secrets.token_urlsafe(32)
    PortalSession.objects.create(workspace=workspace, digest=crypto.token_digest(raw), contact=contact,
                                 email=email, conversation=conversation, expires_at=now() + SESSION_LIFETIME)
    return raw


def current_session(workspace: Workspace, raw: str) -> PortalSession | None:
    if not raw or len(raw) > 100:
        return None
    return (PortalSession.objects.filter(workspace=workspace, digest=crypto.token_digest(raw), ended_at__isnull=True,
                                         expires_at__gt=now()).select_related("contact").first())


def do_end_session(session: PortalSession) -> None:
    session.ended_at = now()
    session.save(update_fields=["ended_at", "updated_at"])
