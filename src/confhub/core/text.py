"""Text a user sends, checked once at the edge: no character that PostgreSQL, a spreadsheet or a
calendar cannot hold.

PostgreSQL refuses a NUL in text (the request used to end in a 500), XLSX cannot store most other
control characters, and a CR or LF in a one-line field (a title, a name, a key) breaks the lines
of every format that shows it. Two kinds of text, each with its rule:

- a *line* (titles, names, captions, keys): no control character at all;
- a *text* (minutes, descriptions, notes, reasons typed in a text area): line breaks and tabs
  allowed, no other control character.

JSON bodies declare the rule on each field (`Line` and `Text` below, so the OpenAPI document
says it too); forms and live messages call :func:`check_line` and :func:`check_text`.
"""

from __future__ import annotations

import re

from msgspec import Meta

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

# C0 controls, DEL, UTF-16 surrogates (a lone one cannot be encoded as UTF-8) and the two
# non-characters XML forbids. Written for both Python's `re` (msgspec's) and ECMA-262 (OpenAPI's):
# Python's `$` also matches before a final line break, which `(?!\n)` refuses.
_OTHER_FORBIDDEN = r"\x7f\ud800-\udfff\ufffe\uffff"
LINE_PATTERN = rf"^[^\x00-\x1f{_OTHER_FORBIDDEN}]*$(?!\n)"
TEXT_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f{_OTHER_FORBIDDEN}]*$(?!\n)"

LINE_MESSAGE = N_("must be one line of text, without control characters")
TEXT_MESSAGE = N_("must not contain control characters")

# `Annotated[str, Meta(max_length=...), Line]`: msgspec merges the constraints.
Line = Meta(pattern=LINE_PATTERN)
Text = Meta(pattern=TEXT_PATTERN)

_LINE = re.compile(LINE_PATTERN)
_TEXT = re.compile(TEXT_PATTERN)
# What msgspec (and so Litestar) says when a value breaks one of the patterns above.
_MSGSPEC_SAYS = {
    f"Expected `str` matching regex {LINE_PATTERN!r}": LINE_MESSAGE,
    f"Expected `str` matching regex {TEXT_PATTERN!r}": TEXT_MESSAGE,
}


def is_line(value: str) -> bool:
    """Whether `value` may be stored as one line of text."""
    return _LINE.match(value) is not None


def is_text(value: str) -> bool:
    """Whether `value` may be stored as text of several lines."""
    return _TEXT.match(value) is not None


def is_digits(value: str) -> bool:
    """Only the digits 0 to 9: `str.isdigit()` also says yes to "²", which `int()` refuses."""
    return value.isascii() and value.isdigit()


def check_line(field: str, value: str) -> str:
    """`value` if it is one line without control characters; else a 400 naming `field`."""
    if _LINE.match(value) is None:
        raise InvalidInputError(field, LINE_MESSAGE)
    return value


def check_text(field: str, value: str) -> str:
    """`value` if it has no control character but line breaks and tabs; else a 400."""
    if _TEXT.match(value) is None:
        raise InvalidInputError(field, TEXT_MESSAGE)
    return value


def explain(message: str) -> str:
    """A validation message in words: msgspec names the regular expression a value broke."""
    return _MSGSPEC_SAYS.get(message, message)
