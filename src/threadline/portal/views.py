"""The customer portal at /portal/<workspace slug>/: server-rendered pages that work without JavaScript.

A customer signs in without a password (`signin.py`), sees the requests of their contact with their public
messages, answers them, opens new ones, and signs out. The portal's session is its own cookie (path
`/portal/<slug>/`), never Django's agent session, in both directions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.conversations.attachments import attachment_response
from threadline.conversations.models import Attachment
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, PermissionDenied, ValidationFailed
from threadline.portal import actions, links, queries, signin
from threadline.portal.models import PortalSession, SignInLink
from threadline.tenancy.models import Workspace


def _workspace(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise Http404
    return workspace


def _page(request: HttpRequest, workspace: Workspace, template: str, context: dict[str, Any] | None = None, *,
          status: int = 200) -> HttpResponse:
    return render(request, f"portal/{template}", {"workspace": workspace, "root": links.portal_root(workspace),
                                                   **(context or {})}, status=status)


def _cookie(response: HttpResponse, request: HttpRequest, workspace: Workspace, raw: str) -> HttpResponse:
    response.set_cookie(signin.COOKIE, raw, max_age=int(signin.SESSION_LIFETIME.total_seconds()),
                        path=links.portal_root(workspace), secure=request.is_secure(), httponly=True,
                        samesite="Lax")
    return response


class Customer:
    """Who is signed in, and what they may see."""

    def __init__(self, session: PortalSession) -> None:
        self.session = session
        self.contact_ids = queries.customer_contacts(session.workspace_id, session.contact_id, session.email)

    def conversations(self) -> Any:
        found = queries.conversations_of(self.session.workspace_id, self.contact_ids)
        if self.session.conversation_id:  # opened from a reply's mail: only that conversation
            found = found.filter(pk=self.session.conversation_id)
        return found

    def conversation(self, conversation_id: int) -> Any:
        conversation = queries.access_conversation(self.session.workspace_id, self.contact_ids, conversation_id)
        if self.session.conversation_id and conversation.pk != self.session.conversation_id:
            raise NotFound(_("No such request."), code="conversation_not_found")
        return conversation


def customer_view(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in customers only (others go to the sign-in page); NotFound and bad input become pages."""

    @wraps(func)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = _workspace(slug)
        session = signin.current_session(workspace, request.COOKIES.get(signin.COOKIE, ""))
        if session is None:
            return HttpResponseRedirect(links.portal_root(workspace))
        try:
            return func(request, workspace, Customer(session), *args, **kwargs)
        except NotFound as exc:
            return _page(request, workspace, "error.html", {"error": str(exc)}, status=404)

    return wrapper


# ── signing in ───────────────────────────────────────────────────────────────────────────────────────
@require_GET
def home_view(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(slug)
    session = signin.current_session(workspace, request.COOKIES.get(signin.COOKIE, ""))
    if session is None:
        return _page(request, workspace, "sign_in.html", {"next": request.GET.get("next", "")})
    customer = Customer(session)
    return _page(request, workspace, "requests.html", {
        "conversations": customer.conversations()[:200], "scoped": bool(session.conversation_id)})


def _ask(request: HttpRequest, slug: str, field: str, ask: Callable[[Workspace, str, str], Any], done: str
         ) -> HttpResponse:
    """A sign-in form's first step (`field` is email or phone): the same answer whether or not anyone has the
    address; its syntax or the client's throttle are the only errors."""
    workspace = _workspace(slug)
    value = request.POST.get(field, "")
    try:
        asked = ask(workspace, value, client_address(request))
    except (ValidationFailed, signin.Throttled) as exc:
        status = 429 if isinstance(exc, signin.Throttled) else 400
        return _page(request, workspace, "sign_in.html", {f"{field}_error": str(exc), field: value}, status=status)
    return _page(request, workspace, done, {field: asked or value})


@require_POST
def sign_in_email_view(request: HttpRequest, slug: str) -> HttpResponse:
    next_path = request.POST.get("next", "")
    return _ask(request, slug, "email", lambda workspace, email, client: signin.request_link(
        workspace, email, client, next_path=next_path), "link_sent.html")


@require_POST
def sign_in_phone_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _ask(request, slug, "phone", signin.request_code, "code.html")


@require_POST
def sign_in_code_view(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(slug)
    phone = request.POST.get("phone", "")
    try:
        raw = signin.do_check_code(workspace, phone, request.POST.get("code", ""), client_address(request))
    except signin.Throttled as exc:
        return _page(request, workspace, "code.html", {"phone": phone, "error": str(exc)}, status=429)
    except PermissionDenied as exc:
        return _page(request, workspace, "code.html", {"phone": phone, "error": str(exc)}, status=403)
    return _cookie(HttpResponseRedirect(links.portal_root(workspace)), request, workspace, raw)


@require_http_methods(["GET", "POST"])
def link_view(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links; only the POST spends it); POST signs in. A chat widget's
    2-minute link is never mailed: its GET signs in at once."""
    workspace = _workspace(slug)
    try:
        if request.method == "GET" and links.check_link(workspace, token).purpose != SignInLink.Purpose.WIDGET:
            return _page(request, workspace, "link.html", {"token": token})
        with transaction.atomic():
            raw, next_path = signin.do_use_link(workspace, token)
    except PermissionDenied as exc:
        return _page(request, workspace, "sign_in.html", {"email_error": str(exc)}, status=400)
    return _cookie(HttpResponseRedirect(next_path), request, workspace, raw)


@require_POST
def sign_out_view(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(slug)
    session = signin.current_session(workspace, request.COOKIES.get(signin.COOKIE, ""))
    if session is not None:
        signin.do_end_session(session)
    response = HttpResponseRedirect(links.portal_root(workspace))
    response.delete_cookie(signin.COOKIE, path=links.portal_root(workspace), samesite="Lax")
    return response


# ── requests ─────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@customer_view
def request_view(request: HttpRequest, workspace: Workspace, customer: Customer, conversation_id: int) -> HttpResponse:
    conversation = customer.conversation(conversation_id)
    return _page(request, workspace, "request.html", {
        "conversation": conversation, "messages": queries.public_messages(conversation),
        "sent": request.GET.get("sent") == "1", "scoped": bool(customer.session.conversation_id)})


@require_POST
@customer_view
def reply_view(request: HttpRequest, workspace: Workspace, customer: Customer, conversation_id: int) -> HttpResponse:
    conversation = customer.conversation(conversation_id)
    try:
        with transaction.atomic():
            actions.submit(workspace=workspace, email="", subject="", text=request.POST.get("text", ""),
                           source="portal", files=request.FILES.getlist("files"),
                           contact=customer.session.contact, conversation=conversation)
    except ValidationFailed as exc:
        return _page(request, workspace, "request.html", {
            "conversation": conversation, "messages": queries.public_messages(conversation), "error": str(exc),
            "text": request.POST.get("text", "")}, status=400)
    return HttpResponseRedirect(f"{links.portal_root(workspace)}requests/{conversation.pk}/?sent=1")


@require_http_methods(["GET", "POST"])
@customer_view
def new_request_view(request: HttpRequest, workspace: Workspace, customer: Customer) -> HttpResponse:
    if customer.session.conversation_id:
        raise NotFound(_("Sign in to open a new request."), code="scoped_session")
    if request.method == "GET":
        return _page(request, workspace, "new.html")
    try:
        with transaction.atomic():
            actions.do_submit_request(workspace=workspace, email="", subject=request.POST.get("subject", ""),
                                      text=request.POST.get("text", ""), source="portal",
                                      files=request.FILES.getlist("files"), contact=customer.session.contact)
    except ValidationFailed as exc:
        return _page(request, workspace, "new.html", {"error": str(exc), "subject": request.POST.get("subject", ""),
                                                      "text": request.POST.get("text", "")}, status=400)
    return _page(request, workspace, "submitted.html")


@require_GET
@customer_view
def attachment_view(request: HttpRequest, workspace: Workspace, customer: Customer, attachment_id: int
                    ) -> HttpResponse:
    attachment = (Attachment.objects.filter(pk=attachment_id, workspace=workspace, message__is_note=False)
                  .select_related("message").first())
    if attachment is None or attachment.message is None:
        raise NotFound(_("No such file."), code="attachment_not_found")
    customer.conversation(attachment.message.conversation_id)
    return attachment_response(attachment)
