"""The email survey's public pages: a rating link (GET: a confirm button, POST: the score, once) and the
comment page after it. No sign-in: the signed link is the proof; a used, tampered or unknown link is refused."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from threadline.core.errors import Conflict, NotFound, ThreadlineError
from threadline.surveys import links
from threadline.surveys.actions import MAX_COMMENT, do_add_comment, do_record_answer
from threadline.surveys.models import SCALES, SurveyRequest, SurveyResponse


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, f"surveys/{template}", {"max_comment": MAX_COMMENT, **context}, status=status)


def _error(request: HttpRequest, exc: ThreadlineError) -> HttpResponse:
    return _page(request, "error.html", {"error": exc}, status=exc.status)


def _survey_request(token: str) -> tuple[SurveyRequest, int]:
    found = links.read_token(token)
    request = SurveyRequest.objects.select_related("conversation").filter(pk=found[0]).first() if found else None
    if request is None or not SCALES[request.kind][0] <= found[1] <= SCALES[request.kind][1]:  # type: ignore[index]
        raise NotFound(_("This link is not valid."), code="link_invalid")
    return request, found[1]  # type: ignore[index]


@require_http_methods(["GET", "POST"])
def rate_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the score and a confirm button; POST records it (a used link answers 409)."""
    try:
        survey_request, score = _survey_request(token)
    except ThreadlineError as exc:
        return _error(request, exc)
    with translation.override(survey_request.conversation.language or translation.get_language()):
        return _rate(request, survey_request, score)


def _rate(request: HttpRequest, survey_request: SurveyRequest, score: int) -> HttpResponse:
    try:
        if survey_request.answered_at is not None:
            raise Conflict(_("This survey was already answered. Thank you!"), code="survey_answered")
        if request.method == "GET":
            return _page(request, "rate.html", {"score": score, "kind": survey_request.kind})
        with transaction.atomic():
            response = do_record_answer(survey_request, score, channel_id=survey_request.channel_id)
        if response is None:
            raise Conflict(_("This survey was already answered. Thank you!"), code="survey_answered")
        return _page(request, "comment.html", {"token": links.comment_token(response.pk), "done": False})
    except ThreadlineError as exc:
        return _error(request, exc)


@require_http_methods(["POST"])
def comment_view(request: HttpRequest, token: str) -> HttpResponse:
    """The optional comment after an email score, once."""
    try:
        response_id = links.read_comment_token(token)
        response = SurveyResponse.objects.filter(pk=response_id).first() if response_id else None
        if response is None:
            raise NotFound(_("This link is not valid."), code="link_invalid")
        with transaction.atomic():
            do_add_comment(response, str(request.POST.get("comment", "")))
        return _page(request, "comment.html", {"done": True})
    except ThreadlineError as exc:
        return _error(request, exc)
