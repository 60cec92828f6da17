"""SMS text: Vietnamese diacritics removed on request, GSM-7 or UCS-2, segment counts.

An SMS in the GSM 03.38 alphabet carries 160 characters, or 153 per part
when split (the rest of each part is the concatenation header); characters
of the extension table (``{ } [ ] ~ \\ | ^ €``) take two. Anything else
forces UCS-2: 70 characters, or 67 per part, counted in UTF-16 units.
Vietnamese letters with diacritics are outside GSM-7, so a merchant who
wants the cheap encoding sends them without.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

# Letters NFD does not take apart, and punctuation phones type that GSM-7 lacks.
_FOLD = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "₫": "d",
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class SmsText:
    """An SMS body as it will be sent, with what it costs in parts."""

    text: str
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int
    segments: int

    @property
    def unicode(self) -> bool:
        return self.encoding == "UCS-2"


def strip_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese (or other Latin) diacritics: "Cảm ơn" -> "Cam on"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def septets(text: str) -> int:
    """The length in GSM-7 septets: extension characters count twice."""
    return sum(2 if c in GSM7_EXTENDED else 1 for c in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def segment_count(length: int, single: int, multi: int) -> int:
    if length <= single:
        return 1
    return -(-length // multi)


def prepare_sms(text: str, *, unicode: bool) -> SmsText:
    """Return the SMS as sent: without diacritics unless ``unicode``, with its parts counted.

    Without ``unicode``, characters still outside GSM-7 after stripping
    (emoji, CJK) become ``?``, so the message never silently turns into a
    pricier UCS-2 one.
    """
    if not unicode:
        folded = strip_diacritics(text)
        text = "".join(c if c in GSM7_BASIC or c in GSM7_EXTENDED else "?" for c in folded)
    if is_gsm7(text):
        length = septets(text)
        return SmsText(text, "GSM-7", length, segment_count(length, 160, 153))
    length = utf16_units(text)
    return SmsText(text, "UCS-2", length, segment_count(length, 70, 67))
