"""`language_name`: a language code as its name in the active language (the code itself when unknown)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language_info

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


@register.filter
def language_names(codes: list[str]) -> str:
    return ", ".join(language_name(code) for code in codes)
