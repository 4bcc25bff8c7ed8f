"""Language variants in an administration form (canned replies, automatic replies, notifications): numbered rows
`language_<n>`, `subject_<n>`, `text_<n>`, the existing variants plus one empty row for another language. A row
with neither language nor text is ignored; the replies domain checks the rest (replies.actions.check_variants)."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from threadline.replies.models import Template
from threadline.replies.rendering import PLACEHOLDERS

MAX_ROWS = 50


def posted_variants(data: QueryDict) -> list[dict[str, str]]:
    rows = []
    for n in range(MAX_ROWS + 1):
        language, text = (data.get(f"language_{n}") or "").strip(), data.get(f"text_{n}") or ""
        if language or text.strip():
            rows.append({"language": language, "subject": data.get(f"subject_{n}") or "", "text": text})
    return rows


def variant_rows(template: Template | None, data: QueryDict | None = None, *, default_language: str = "en",
                 ) -> list[dict[str, Any]]:
    """The rows to show: what was posted (after a refusal), else the template's variants; then an empty row."""
    if data is not None:
        rows = posted_variants(data)
    elif template is not None:
        rows = [{"language": v.language, "subject": v.subject, "text": v.text}
                for v in sorted(template.variants.all(), key=lambda v: v.language)]
    else:
        rows = [{"language": default_language, "subject": "", "text": ""}]
    if len(rows) < MAX_ROWS:
        rows.append({"language": "", "subject": "", "text": ""})
    return [{**row, "n": n} for n, row in enumerate(rows)]


def placeholders() -> list[str]:
    return ["{{" + name + "}}" for name in PLACEHOLDERS]
