"""Email surveys: one signed rating link per score. A GET only shows a confirm button (a link scanner that
follows every link votes for nothing); the POST records the score once, then offers the comment page."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from threadline.surveys.models import SCALES, SurveyRequest

SALT = "threadline.surveys.rating"
MAX_AGE = 60 * 60 * 24 * 30  # a link works for 30 days (the request is answered once anyway)


def token_for(request_id: int, score: int) -> str:
    return signing.dumps({"r": request_id, "s": score}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, int] | None:
    """(request id, score) of an intact link within its age, else None."""
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("r"), int) or not isinstance(value.get("s"), int):
        return None
    return value["r"], value["s"]


def rating_url(request_id: int, score: int) -> str:
    return f"{settings.PUBLIC_URL}/surveys/rate/{token_for(request_id, score)}/"


def email_body(request: SurveyRequest, question: str, language: str) -> tuple[str, str]:
    """The text and HTML of an email survey: the question, then one link per score."""
    low, high = SCALES[request.kind]
    scores = range(low, high + 1)
    with translation.override(language or None):
        intro = _("Choose a score:")
    text = "\n".join([question, "", intro, *(f"{s}: {rating_url(request.pk, s)}" for s in scores)])
    html = format_html("<p>{}</p><p>{}</p><p>{}</p>", question, intro, format_html_join(
        " ", '<a href="{}">{}</a>', ((rating_url(request.pk, s), s) for s in scores)))
    return text, html


COMMENT_SALT = "threadline.surveys.comment"


def comment_token(response_id: int) -> str:
    return signing.dumps(response_id, salt=COMMENT_SALT)


def read_comment_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=COMMENT_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None
