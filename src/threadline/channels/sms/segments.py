"""SMS segmentation: GSM-7 or UCS-2, 160/70 characters alone, 153/67 per part when concatenated.

GSM 03.38: the basic set costs one septet, the extension table (€, [, ], {, }, ~, ^, |, \\) two. Any other
character forces UCS-2, counted in UTF-16 code units (an emoji outside the BMP costs two). A concatenated
part never splits an escape sequence or a surrogate pair, as carriers do.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class Segmentation:
    encoding: str
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    characters: int
    per_segment: int  # capacity of one part in this message (160/153 or 70/67)
    remaining: int  # units left in the last part

    def as_dict(self) -> dict[str, object]:
        return {"encoding": self.encoding, "segments": self.segments, "units": self.units,
                "characters": self.characters, "per_segment": self.per_segment, "remaining": self.remaining}


def is_gsm7(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def _unit_costs(text: str) -> tuple[str, list[int]]:
    if is_gsm7(text):
        return GSM7, [2 if c in GSM_EXTENDED else 1 for c in text]
    return UCS2, [2 if ord(c) > 0xFFFF else 1 for c in text]


def segment(text: str) -> Segmentation:
    """How many SMS parts `text` costs, and in which encoding."""
    encoding, costs = _unit_costs(text)
    single, multi = (160, 153) if encoding == GSM7 else (70, 67)
    units = sum(costs)
    if units <= single:
        return Segmentation(encoding, 1 if text else 0, units, len(text), single, single - units)
    parts, used = 1, 0
    for cost in costs:  # a character never straddles two parts
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return Segmentation(encoding, parts, units, len(text), multi, multi - used)
