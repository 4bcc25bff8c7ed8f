"""What a survey says: the question per kind (the workspace's own wording per language, else the default in
the customer's language through gettext), the score choices and the "reply with a number" fallback."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from threadline.surveys.models import SCALES, Kind, Survey


def default_question(kind: str) -> str:
    if kind == Kind.CSAT:
        return _("How satisfied are you with the help you received? (1 = very unsatisfied, 5 = very satisfied)")
    if kind == Kind.CES:
        return _("How easy was it to get your issue solved? (1 = very difficult, 7 = very easy)")
    return _("How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely likely)")


def question(survey: Survey, language: str) -> str:
    own = (survey.wording or {}).get(language) or (survey.wording or {}).get(language.split("-")[0])
    if own:
        return str(own)
    with translation.override(language or None):
        return default_question(survey.kind)


def number_prompt(kind: str, language: str) -> str:
    low, high = SCALES[kind]
    with translation.override(language or None):
        return _("Reply with a number from %(low)d to %(high)d.") % {"low": low, "high": high}


def choice_id(request_id: int, score: int) -> str:
    """A score's button id (Telegram allows 64 bytes of callback data, the widget [A-Za-z0-9_.:-])."""
    return f"survey:{request_id}:{score}"


def parse_choice(value: object) -> tuple[int, int] | None:
    """(request id, score) of a survey button id, None for anything else."""
    parts = str(value or "").split(":")
    if len(parts) != 3 or parts[0] != "survey" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])


def score_choices(request_id: int, kind: str) -> list[dict[str, str]]:
    low, high = SCALES[kind]
    return [{"id": choice_id(request_id, score), "label": str(score)} for score in range(low, high + 1)]
