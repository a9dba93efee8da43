"""The news services' error messages (English, for the API) in the page's language."""

from __future__ import annotations

import re

from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.i18n import N_, gettext
from confhub.core.text import LINE_MESSAGE, TEXT_MESSAGE

# (pattern at the start of the message, message id); named groups fill the placeholders.
_PATTERNS: list[tuple[str, str]] = [
    (
        r"The minutes are locked",
        N_("The minutes are locked (approved); they can no longer change."),
    ),
    (r"Write the minutes before locking", N_("Write the minutes before locking them.")),
    (r"Write the minutes before publishing", N_("Write and save the minutes before publishing.")),
    (
        r"The meeting is (?P<status>\w+); publish",
        N_("The minutes are published once the meeting has taken place."),
    ),
    (r"only JPEG, PNG", N_("Only JPEG, PNG, WebP and GIF photos are accepted.")),
    (r"the file is empty", N_("Choose a photo to upload.")),
    (
        r"the photo has too many pixels \(at most (?P<n>\d+) megapixels\)",
        N_("The photo has too many pixels: at most %(n)s megapixels."),
    ),
    (
        r"the photo has too many scans \(at most (?P<n>\d+)\)",
        N_("The JPEG photo has too many scans (at most %(n)s): save it again as a JPEG."),
    ),
    (
        r"The file is larger than the limit of (?P<mb>\d+) MB",
        N_("The photo is larger than the limit of %(mb)s MB."),
    ),
    (r"at most (?P<count>\d+) characters", N_("At most %(count)s characters.")),
    (
        r"too much formatting",
        N_(
            "The text has too much formatting to show (lines, list items, table cells, links, "
            "emphasis): shorten it or use less formatting."
        ),
    ),
    (r"must not be empty", N_("This must not be empty.")),
    (re.escape(LINE_MESSAGE), N_("One line of text, without control characters.")),
    (re.escape(TEXT_MESSAGE), N_("Remove the control characters (invisible ones such as NUL).")),
]


def page_message(language: str, error: ConfhubError) -> str:
    """The error as a sentence in `language` (a message no pattern knows is shown as it is)."""
    text = error.detail
    if isinstance(error, InvalidInputError) and error.extra:
        text = str(error.extra[0].get("message", text))
    for pattern, msgid in _PATTERNS:
        match = re.match(pattern, text)
        if match:
            return gettext(language, msgid, **match.groupdict())
    return text
