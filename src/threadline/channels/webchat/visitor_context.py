"""What the workspace shows about a web-chat visitor (the adapter's optional `contact_label`/`contact_context`): a readable name instead of a token ("Visitor from
shop.example/pricing"), and their context (the page they are on, pages seen, browser, language, the
attributes the site sent)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from threadline.channels.webchat.actions import UNVERIFIED_EMAIL
from threadline.channels.webchat.models import Visitor
from threadline.contacts.models import Contact

BROWSERS = (("Edg", "Edge"), ("OPR", "Opera"), ("SamsungBrowser", "Samsung Internet"), ("Firefox", "Firefox"),
            ("Chrome", "Chrome"), ("Version", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def latest_visitor(contact: Contact) -> Visitor | None:
    return Visitor.objects.filter(workspace_id=contact.workspace_id, contact=contact).order_by(
        "-last_seen_at", "-id").first()


def place(url: str) -> str:
    """`https://shop.example/pricing?x=1` → `shop.example/pricing` (the host and path a person recognises)."""
    parts = urlsplit(url or "")
    if not parts.netloc:
        return ""
    path = parts.path.rstrip("/")
    text = f"{parts.hostname or parts.netloc}{path}"
    return text if len(text) <= 48 else text[:47] + "…"


def browser_summary(user_agent: str) -> str:
    """"Firefox 128 on Linux" from a User-Agent header (empty when it says nothing recognisable)."""
    browser = next(((name, m.group(1)) for token, name in BROWSERS
                    if (m := re.search(rf"{token}/(\d+)", user_agent or ""))), None)
    system = next((name for token, name in SYSTEMS if token in (user_agent or "")), "")
    if browser is None:
        return system
    text = f"{browser[0]} {browser[1]}"
    return f"{text} · {system}" if system else text


def visitor_label(contact: Contact) -> str:
    """For a visitor without a name or attested address: the email they left, else where they are."""
    email = (contact.attributes or {}).get(UNVERIFIED_EMAIL)
    if email:
        return str(email)
    visitor = latest_visitor(contact)
    return place(visitor.page_url) if visitor is not None else ""


def visitor_context(contact: Contact) -> dict[str, Any] | None:
    visitor = latest_visitor(contact)
    if visitor is None:
        return None
    pages = [{"url": p.get("url", ""), "place": place(p.get("url", "")), "at": p.get("at")}
             for p in reversed(visitor.pages or []) if isinstance(p, dict)]
    known = set((contact.attributes or {}).keys())
    return {
        "visitor": visitor, "page": visitor.page_url, "page_place": place(visitor.page_url), "pages": pages[:10],
        "browser": browser_summary(visitor.user_agent), "locale": visitor.locale, "last_seen_at": visitor.last_seen_at,
        "verified": visitor.verified,
        "attributes": sorted((k, v) for k, v in (visitor.attributes or {}).items() if k not in known)[:20],
    }
