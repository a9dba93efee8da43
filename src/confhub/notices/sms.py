"""How long a text is as SMS: GSM-7 (160 characters, 153 a part when split) when every
character is in its alphabet, else UCS-2 (70, 67 a part) — which Vietnamese with diacritics
always is. The page previews both, with and without diacritics."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    """A text's encoding, its length in that encoding's units, and its parts."""

    encoding: str
    units: int
    segments: int


def sms_length(text: str) -> SmsLength:
    """How the text travels as SMS."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        return SmsLength("GSM-7", units, 1 if units <= 160 else math.ceil(units / 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsLength("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


def without_diacritics(text: str) -> str:
    """Vietnamese without its marks ("Cẩm Tú" → "Cam Tu"), as a GSM-7 SMS can carry it."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    )
