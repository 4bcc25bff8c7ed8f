"""Which help center and which language a public request is for.

The public site has no signed-in workspace: the first path segment is the help center's slug, unique in the
installation (`knowledge.HelpCenter.slug`), and it alone decides the workspace. Only public help centers
exist here; every later lookup is filtered by that help center's workspace, so no id from another workspace
resolves. The second segment is the language, one of the help center's enabled languages.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from threadline.knowledge.models import HelpCenter

RTL_LANGUAGES = frozenset(settings.LANGUAGES_BIDI)


def public_center(slug: str) -> HelpCenter:
    """The public help center of that slug; Http404 (a plain one: there is no help center to show it in)."""
    center = HelpCenter.objects.select_related("brand", "workspace").filter(slug=slug, is_public=True).first()
    if center is None:
        raise Http404(_("No such help center."))
    return center


def languages_of(center: HelpCenter) -> list[str]:
    """The enabled languages, the default first (at least the default)."""
    ordered = [center.default_language] + [code for code in center.languages or [] if code != center.default_language]
    return list(dict.fromkeys(code for code in ordered if code))


def negotiate(request: HttpRequest, center: HelpCenter) -> str:
    """The visitor's preferred enabled language (Accept-Language, then its base language), else the default."""
    enabled = languages_of(center)
    for asked, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        asked = asked.lower()
        for code in (asked, asked.split("-")[0]):
            if code in enabled:
                return code
    return enabled[0]


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"


def language_name(language: str) -> str:
    """The language's own name (עברית, فارسی...): a switcher speaks the language it offers."""
    from django.utils.translation import get_language_info

    try:
        return str(get_language_info(language)["name_local"])
    except KeyError:
        return language


def absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path
