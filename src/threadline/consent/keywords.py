"""STOP/START/HELP and their common equivalents in other languages, matched on the whole message.

Carriers and Twilio's defaults (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT; START, YES,
UNSTOP; HELP, INFO) plus the words customers use in the languages we serve. A keyword counts only when it
is the whole message (case, accents and trailing punctuation ignored): "please stop calling me" is a message
for an agent, not an opt-out.
"""

from __future__ import annotations

import unicodedata

from threadline.consent.models import ConsentAction

OUT, IN, HELP = ConsentAction.OPT_OUT, ConsentAction.OPT_IN, ConsentAction.HELP

KEYWORDS: dict[str, tuple[str, str]] = {
    # English (CTIA / Twilio defaults)
    **{w: (OUT, "en") for w in ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
                                 "opt out", "opt-out", "stop all")},
    **{w: (IN, "en") for w in ("start", "yes", "unstop", "subscribe", "optin", "opt in", "opt-in")},
    **{w: (HELP, "en") for w in ("help", "info")},
    # Spanish
    **{w: (OUT, "es") for w in ("alto", "baja", "parar", "detener", "cancelar suscripcion")},
    **{w: (IN, "es") for w in ("alta", "inicio", "comenzar", "si")},
    **{w: (HELP, "es") for w in ("ayuda",)},
    # French
    **{w: (OUT, "fr") for w in ("arret", "arreter", "desabonner", "desinscription")},
    **{w: (IN, "fr") for w in ("debut", "reprendre")},
    **{w: (HELP, "fr") for w in ("aide",)},
    # German
    **{w: (OUT, "de") for w in ("stopp", "abmelden", "abbestellen")},
    **{w: (IN, "de") for w in ("anmelden",)},
    **{w: (HELP, "de") for w in ("hilfe",)},
    # Portuguese / Italian / Dutch
    **{w: (OUT, "pt") for w in ("sair", "descadastrar")},
    **{w: (HELP, "pt") for w in ("ajuda",)},
    **{w: (OUT, "it") for w in ("basta", "disiscrivi")},
    **{w: (HELP, "it") for w in ("aiuto",)},
    **{w: (OUT, "nl") for w in ("stoppen", "afmelden")},
    # Czech
    **{w: (OUT, "cs") for w in ("odhlasit", "zrusit", "konec")},
    **{w: (IN, "cs") for w in ("prihlasit",)},
    **{w: (HELP, "cs") for w in ("napoveda", "pomoc")},
    # Hebrew
    **{w: (OUT, "he") for w in ("הסר", "הסרה", "עצור", "הפסק")},
    **{w: (IN, "he") for w in ("הרשם", "הצטרף")},
    **{w: (HELP, "he") for w in ("עזרה",)},
    # Persian / Arabic
    **{w: (OUT, "fa") for w in ("لغو", "توقف", "لغو عضویت")},
    **{w: (HELP, "fa") for w in ("راهنما", "کمک")},
    **{w: (OUT, "ar") for w in ("إيقاف", "ايقاف", "الغاء")},
    **{w: (HELP, "ar") for w in ("مساعدة",)},
    # Thai
    **{w: (OUT, "th") for w in ("หยุด", "ยกเลิก")},
    **{w: (IN, "th") for w in ("เริ่ม",)},
    **{w: (HELP, "th") for w in ("ช่วยเหลือ", "ช่วย")},
}


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a short message (Arabic ي/ك folded to Persian)."""
    folded = unicodedata.normalize("NFKD", text.strip().casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c) or ord(c) > 0x590)
    folded = unicodedata.normalize("NFC", folded).replace("ي", "ی").replace("ك", "ک")
    return " ".join(folded.strip(" \t\r\n.!?,;:'\"()[]-*").split())


_NORMALIZED = {normalize(k): v for k, v in KEYWORDS.items()}


def match(text: str) -> tuple[str, str, str] | None:
    """(action, language, keyword) when the whole message is a consent keyword, else None."""
    if not text or len(text) > 40:
        return None
    word = normalize(text)
    found = _NORMALIZED.get(word)
    return (found[0], found[1], word) if found else None
