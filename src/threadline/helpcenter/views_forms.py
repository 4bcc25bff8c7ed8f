"""POST side of the help center: "was this helpful?" on an article, and the "contact us" form.

A customer's message goes through `portal.actions.do_submit_request` (the portal channel's inbound pipeline:
committed before we say "sent", turned into a conversation by the worker); an email typed here is unverified,
so it never links to an existing contact by itself (the portal makes a merge suggestion). Bad input is
answered with the form again, its errors beside the fields, and a 4xx status; a throttled address with 429.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.core.client_address import client_address
from threadline.core.errors import ThreadlineError
from threadline.core.throttle import Throttle
from threadline.helpcenter import pages, queries, site
from threadline.helpcenter.forms import CONTACT, FEEDBACK, MAX_FILES, ContactForm, FeedbackForm
from threadline.helpcenter.pagecache import Page
from threadline.helpcenter.views import cached, help_center_page, not_found_page, render_article
from threadline.knowledge.actions import do_record_feedback
from threadline.knowledge.models import HelpCenter
from threadline.portal.actions import do_submit_request


def _answer(request: HttpRequest, page: Page, *, retry_after: int = 0) -> HttpResponse:
    """An uncached page with the visitor's own CSRF token (the form again, with its errors)."""
    from django.middleware.csrf import get_token

    from threadline.helpcenter.pagecache import CSRF_PLACEHOLDER

    response = HttpResponse(page.html.replace(CSRF_PLACEHOLDER, get_token(request)), status=page.status,
                            content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return _("Too many messages from your address. Please try again in %(minutes)d minutes.") % {"minutes": minutes}


def _throttled(throttle: Throttle, account: str, client: str) -> int:
    """Seconds the client must wait; otherwise counts this submission and answers 0."""
    wait = throttle.retry_after(account, client)
    if not wait:
        throttle.failed(account, client)  # every submission counts
    return wait


FIELDS = frozenset({"helpful", "comment", "email", "name", "subject", "message", "files"})
RENAMED = {"attachments": "files", "text": "message"}  # the portal's names for our fields


def _errors(form: Any) -> dict[str, list[str]]:
    return {_field(field): [str(e) for e in errors] for field, errors in form.errors.items()}


def _field(name: str | None) -> str:
    """Where on the form an error is shown: beside its field, or above the form."""
    name = RENAMED.get(name or "", name or "")
    return name if name in FIELDS else "form"


@require_POST
@help_center_page
def feedback_view(request: HttpRequest, center: HelpCenter, language: str, article_id: int) -> HttpResponse:
    found = queries.article(center, article_id, language)
    if found is None:
        return _answer(request, not_found_page(request, center, language))
    translation = found.translation
    back = pages.translation_url(center, translation)
    form = FeedbackForm(request.POST)
    if form.is_bot():
        return HttpResponseRedirect(f"{back}?feedback=sent#feedback")
    values = {k: request.POST.get(k, "") for k in ("comment", "email")}
    if not form.is_valid():
        return _answer(request, render_article(request, center, language, found, errors=_errors(form),
                                               values=values, status=400))
    wait = _throttled(FEEDBACK, str(translation.pk), client_address(request))
    if wait:
        page = render_article(request, center, language, found, errors={"form": [_wait_message(wait)]},
                              values=values, status=429)
        return _answer(request, page, retry_after=wait)
    data = form.cleaned_data
    forwarded = form.wants_answer()
    try:
        with transaction.atomic():
            do_record_feedback(translation, helpful=data["helpful"] == "yes", comment=data["comment"])
            if forwarded:
                do_submit_request(
                    workspace=center.workspace, brand=center.brand, email=data["email"], source="article_feedback",
                    subject=_("Feedback on “%(title)s”") % {"title": translation.title},
                    text=f"{data['comment']}\n\n{site.absolute(back)}",
                )
    except ThreadlineError as exc:
        page = render_article(request, center, language, found, errors={_field(exc.field): [exc.message]},
                              values=values, status=exc.status if 400 <= exc.status < 500 else 400)
        return _answer(request, page)
    return HttpResponseRedirect(f"{back}?feedback={'forwarded' if forwarded else 'sent'}#feedback")


def _contact_page(request: HttpRequest, center: HelpCenter, language: str, *, sent: bool = False,
                  errors: dict[str, list[str]] | None = None, values: dict[str, str] | None = None,
                  status: int = 200) -> Page:
    path = pages.named_url("contact", center, language)
    return pages.render_page(
        request, "helpcenter/contact.html", center, language, path=path, title=_("Contact us"),
        description=_("Write to %(name)s: we answer by email.") % {"name": center.name},
        languages=[(code, pages.named_url("contact", center, code)) for code in site.languages_of(center)],
        sent=sent, errors=errors or {}, values=values or {}, status=status, max_files=MAX_FILES,
        max_mb=settings.THREADLINE["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@help_center_page
def contact_view(request: HttpRequest, center: HelpCenter, language: str) -> HttpResponse:
    if request.method != "POST":
        sent = request.GET.get("sent") == "1"
        return cached(request, center, language, lambda: _contact_page(request, center, language, sent=sent))
    limit = settings.THREADLINE["ATTACHMENT_MAX_BYTES"] + 1024 * 1024  # the files and the form's text
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        message = _("The files together are larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024) - 1}
        return _answer(request, _contact_page(request, center, language, errors={"files": [message]}, status=413))
    form = ContactForm(request.POST)
    done = HttpResponseRedirect(pages.named_url("contact", center, language) + "?sent=1")
    if form.is_bot():
        return done
    values = {k: request.POST.get(k, "") for k in ("name", "email", "subject", "message")}
    files = request.FILES.getlist("files")
    if not form.is_valid() or len(files) > MAX_FILES:
        errors = _errors(form)
        if len(files) > MAX_FILES:
            errors["files"] = [_("At most %(n)d files can be attached.") % {"n": MAX_FILES}]
        return _answer(request, _contact_page(request, center, language, errors=errors, values=values, status=400))
    data = form.cleaned_data
    wait = _throttled(CONTACT, data["email"], client_address(request))
    if wait:
        page = _contact_page(request, center, language, errors={"form": [_wait_message(wait)]}, values=values,
                             status=429)
        return _answer(request, page, retry_after=wait)
    try:
        with transaction.atomic():
            do_submit_request(workspace=center.workspace, brand=center.brand, email=data["email"],
                              name=data["name"], subject=data["subject"], text=data["message"],
                              source="help_center", files=files)
    except ThreadlineError as exc:
        page = _contact_page(request, center, language, errors={_field(exc.field): [exc.message]},
                             values=values, status=exc.status if 400 <= exc.status < 500 else 400)
        return _answer(request, page)
    return done
