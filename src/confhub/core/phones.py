"""Vietnamese phone numbers as people and spreadsheets write them, in one national form.

Since 2018 a Vietnamese mobile number has ten digits in its national form, `0` and nine more,
the first of them 3, 5, 7, 8 or 9; a landline has eleven, `02`, its area's two more digits and a
seven- or eight-digit subscriber (`0237 385 2468` in Thanh Hóa). People write them with `+84` or
`84` instead of the `0`, with spaces, dots or dashes between groups. A spreadsheet that stored
the number as a number dropped the leading `0`, which :func:`parse_phone` puts back and marks,
so an import can say so instead of calling the number right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What may separate the groups of digits: spaces, dots, dashes, brackets round a prefix.
_WRITTEN = re.compile(r"\(?\+?[0-9][0-9 .\-()\u00a0]*")
_SEPARATORS = re.compile(r"[ .\-()\u00a0]")
# Mobiles, then landlines.
_NATIONAL = re.compile(r"0[35789][0-9]{8}|02[0-9]{9}")


@dataclass(frozen=True)
class Phone:
    """A number in its national form (`0XXXXXXXXX` for a mobile); `restored` when its leading 0
    was missing (a spreadsheet stored it as a number) and put back."""

    number: str
    restored: bool = False


def parse_phone(value: str) -> Phone | None:
    """The national form of a written number, or None when it is not a Vietnamese number.

    >>> parse_phone("+84 912.345.678")
    Phone(number='0912345678', restored=False)
    >>> parse_phone("912345678")
    Phone(number='0912345678', restored=True)
    """
    text = value.strip()
    if not _WRITTEN.fullmatch(text):
        return None
    digits = _SEPARATORS.sub("", text)
    international = digits.startswith("+")
    digits = digits.removeprefix("+")
    if international or (digits.startswith("84") and len(digits) in (11, 12)):
        if not digits.startswith("84"):
            return None
        # "+84 912…", and "+84 0912…" as some write it.
        digits = digits[2:]
        digits = digits if digits.startswith("0") else "0" + digits
        return Phone(digits) if _NATIONAL.fullmatch(digits) else None
    if _NATIONAL.fullmatch(digits):
        return Phone(digits)
    if not digits.startswith("0") and _NATIONAL.fullmatch("0" + digits):
        return Phone("0" + digits, restored=True)
    return None
