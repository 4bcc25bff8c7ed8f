"""RFC 3676 `format=flowed` plain text (Thunderbird, Apple Mail, many mobile clients) turned back into the
paragraphs the sender typed: a line ending in a space continues on the next line of the same quote depth;
space-stuffing is undone; with `DelSp=yes` the trailing space was added by the sender's client and goes."""

from __future__ import annotations

SIGNATURE_SEPARATOR = "-- "


def _split_quote(line: str) -> tuple[int, str]:
    depth = len(line) - len(line.lstrip(">"))
    rest = line[depth:]
    if rest.startswith(" "):  # space-stuffing (and the space after quote marks) is undone
        rest = rest[1:]
    return depth, rest


def unflow(text: str, *, delsp: bool = False) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    current: list[str] = []
    current_depth = 0

    def finish() -> None:
        if current:
            prefix = ">" * current_depth + (" " if current_depth else "")
            out.append(prefix + "".join(current))
            current.clear()

    for raw in lines:
        depth, line = _split_quote(raw)
        if current and depth != current_depth:  # a flowed line followed by another depth ends the paragraph
            finish()
        current_depth = depth
        flowed = line.endswith(" ") and line != SIGNATURE_SEPARATOR
        if flowed and delsp:
            line = line[:-1]
        current.append(line)
        if not flowed:
            finish()
    finish()
    return "\n".join(out)
