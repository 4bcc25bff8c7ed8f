"""The shipped catalogs: every string of the workspace and the widget translated into Hebrew, Persian, Thai
and Czech with the same placeholders, and the compiled .mo files in step with the .po sources."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path

import pytest

import threadline

LOCALE = Path(threadline.__file__).parent / "locale"
LANGUAGES = ("he", "fa", "th", "cs")
OURS = ("web/", "channels/webchat/", "realtime/")
PLACEHOLDER = re.compile(r"%\(\w+\)(?:02)?[sd]|\{\{\w+\}\}")
ENTRY = re.compile(r'^((?:#.*\n)*)msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', re.M)


def entries(language: str) -> list[tuple[list[str], str, str]]:
    """(source references, msgid, msgstr) of a .po file, without the header."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    found = []
    for match in ENTRY.finditer(text):
        refs = [ref.split(":")[0] for line in match.group(1).splitlines() if line.startswith("#: ")
                for ref in line[3:].split()]
        msgid = "".join(json.loads(part) for part in match.group(2).split("\n") if part)
        msgstr = "".join(json.loads(part) for part in match.group(3).split("\n") if part)
        if msgid:
            found.append((refs, msgid, msgstr))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_workspace_and_widget_strings_are_all_translated(language):
    missing = [msgid for refs, msgid, msgstr in entries(language)
               if any(ref.startswith(OURS) for ref in refs) and not msgstr]
    assert missing == []
    assert len(entries(language)) > 300


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    wrong = [(msgid, msgstr) for _refs, msgid, msgstr in entries(language)
             if msgstr and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))]
    assert wrong == []


@pytest.mark.parametrize("language", [*LANGUAGES, "en"])
def test_compiled_catalogs_match_their_sources(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for _refs, msgid, msgstr in entries(language) if msgstr and compiled.gettext(msgid) != msgstr]
    assert stale == [], "run: threadline compilemessages (the .mo files are committed)"
