"""Rendering TwiML (`<Response>` with Say, Gather, Record, Enqueue, Redirect, Hangup) safely escaped."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr


def _attrs(attrs: dict[str, object]) -> str:
    return "".join(f" {k}={quoteattr(str(v).lower() if isinstance(v, bool) else str(v))}"
                   for k, v in attrs.items() if v is not None and v != "")


class TwiML:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def say(self, text: str, language: str = "") -> TwiML:
        self.parts.append(f"<Say{_attrs({'language': language})}>{escape(text)}</Say>")
        return self

    def gather(self, action: str, says: list[tuple[str, str]], **attrs: object) -> TwiML:
        inner = "".join(f"<Say{_attrs({'language': lang})}>{escape(text)}</Say>" for text, lang in says)
        self.parts.append(f"<Gather{_attrs({'action': action, 'method': 'POST', **attrs})}>{inner}</Gather>")
        return self

    def record(self, action: str, **attrs: object) -> TwiML:
        self.parts.append(f"<Record{_attrs({'action': action, 'method': 'POST', **attrs})}/>")
        return self

    def enqueue(self, queue: str, action: str) -> TwiML:
        self.parts.append(f"<Enqueue{_attrs({'action': action, 'method': 'POST'})}>{escape(queue)}</Enqueue>")
        return self

    def redirect(self, url: str) -> TwiML:
        self.parts.append(f"<Redirect{_attrs({'method': 'POST'})}>{escape(url)}</Redirect>")
        return self

    def hangup(self) -> TwiML:
        self.parts.append("<Hangup/>")
        return self

    def render(self) -> str:
        return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(self.parts) + "</Response>"
