"""An article's body: Markdown or HTML in, sanitized HTML (nh3 allow-list) and plain text out; slugs; the line
diff between two versions."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import nh3
from inscriptis import get_text
from markdown_it import MarkdownIt

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "code": {"class"},  # language-xxx from fenced code blocks
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_SLUG = 80


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # raw HTML inside Markdown is escaped, not passed through; tables and strikethrough as on GitHub
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def sanitize(html: str) -> str:
    """Rich text an editor may use (headings, lists, links, images, tables, code); no scripts, styles, event
    handlers, frames or `javascript:` URLs."""
    return nh3.clean(html or "", tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow")


def to_html(source: str, body_format: str) -> str:
    return sanitize(_markdown().render(source or "") if body_format == "markdown" else source).strip()


def to_text(html: str) -> str:
    """The readable text of sanitized HTML, whitespace collapsed (what search and the answer bot read)."""
    text = get_text(html or "") if html else ""
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


def slugify(title: str) -> str:
    """A URL slug in the title's own script ("Track your parcel" → "track-your-parcel", Hebrew stays Hebrew):
    letters, digits and combining marks (Thai vowels) kept, the rest collapsed to single hyphens."""
    text = unicodedata.normalize("NFKC", title or "").casefold().replace("\u200c", "")
    kept = "".join(ch if ch.isalnum() or unicodedata.category(ch).startswith("M") else "-" for ch in text)
    slug = re.sub(r"-+", "-", kept).strip("-")[:MAX_SLUG].strip("-")
    return slug or "article"


@dataclass(frozen=True)
class DiffLine:
    op: str  # "+" added, "-" removed, " " unchanged, "@" a hunk header
    text: str


def diff_lines(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """A line diff (difflib's unified diff) between two bodies, as lines to render HTML-escaped."""
    lines = difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=context)
    out = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        op = "@" if line.startswith("@@") else line[:1] or " "
        out.append(DiffLine(op, line if op == "@" else line[1:]))
    return out
