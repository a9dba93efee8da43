"""The services' error messages (English, for the API) as sentences in the page's language.

Services raise errors whose text is read by API clients; the web pages show the same errors next
to the field in Vietnamese or English. Each known message shape is a pattern here; a message no
pattern knows is shown as it is (still better than hiding what went wrong).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.i18n import N_, gettext
from confhub.core.text import LINE_MESSAGE, TEXT_MESSAGE

_UNIT = r"(?P<unit>[^;:]+?) \((?P<code>\d+)\)"
_QUOTED = r"(?P<q>['\"])(?P<value>[^;]*?)(?P=q)"

# (pattern, message id); a pattern's named groups fill the message's placeholders. Messages that
# several errors may be joined into (a sheet row's "a; b") are matched anywhere, so no pattern may
# cross a ";".
_PATTERNS: list[tuple[str, str]] = [
    (r"must be after starts_at", N_("The end must be after the start.")),
    (r"must carry a UTC offset", N_("Enter a date and time.")),
    (r"must not be before from", N_("The last day must not be before the first.")),
    (r"say why the meeting is cancelled", N_("Say why the meeting is cancelled.")),
    (r"the host point must be in the province", N_("The main point must be in the province.")),
    (r"unknown province code (?P<code>\d+)", N_("There is no province with code %(code)s.")),
    (r"unknown point (?P<point>\d+)", N_("There is no connection point %(point)s.")),
    (
        r"A meeting cannot go from (?P<status_from>\w+) to (?P<status_to>\w+)",
        N_("A meeting cannot go from “%(status_from)s” to “%(status_to)s”."),
    ),
    (
        r"The meeting is (?P<status>\w+); it can no longer be edited",
        N_("The meeting is “%(status)s”; it can no longer be edited."),
    ),
    (
        r"The meeting is (?P<status>\w+); its invitations can no longer change",
        N_("The meeting is “%(status)s”; its connection points can no longer change."),
    ),
    (r"The meeting is cancelled", N_("The meeting is cancelled.")),
    (r"ambiguous: (?P<names>[^;]+); use the code", N_("ambiguous (%(names)s): use the code")),
    (r"no unit with code (?P<code>\d+)", N_("no unit has the code %(code)s")),
    (rf"no unit named {_QUOTED}", N_("no unit is named “%(value)s”")),
    (
        rf"{_UNIT} is not in province (?P<province>\d+)",
        N_("%(unit)s (%(code)s) is not in this province"),
    ),
    (
        rf"{_UNIT} is in (?P<there>[^;]+?), not in (?P<here>[^;]+)",
        N_("%(unit)s (%(code)s) is in %(there)s, not in %(here)s"),
    ),
    (
        rf"duplicate: {_UNIT} is also on row (?P<rows>[\d, ]+)",
        N_("%(unit)s (%(code)s) is also on row %(rows)s"),
    ),
    (
        rf"{_UNIT} is not invited to this meeting",
        N_("%(unit)s (%(code)s) is not invited to this meeting"),
    ),
    (r"the unit is empty", N_("the unit is missing")),
    (r"the chair's name is empty", N_("the chair's name is missing")),
    (
        r"the chair's name is longer than (?P<n>\d+) characters",
        N_("the chair's name is longer than %(n)s characters"),
    ),
    (
        r"the title is longer than (?P<n>\d+) characters",
        N_("the title is longer than %(n)s characters"),
    ),
    (
        r"the phone number is longer than (?P<n>\d+) characters",
        N_("the phone number is longer than %(n)s characters"),
    ),
    (rf"not a phone number: {_QUOTED}", N_("“%(value)s” is not a phone number")),
    (
        r"(?P<n>\d+) rows have errors; nothing was imported",
        N_("%(n)s rows have errors; nothing was imported."),
    ),
    (r"name at least one unit or point to invite", N_("Choose at least one unit or point.")),
    (r"the list is empty", N_("The list is empty.")),
    (r"the file is empty", N_("The file is empty.")),
    (r"the sheet has no rows", N_("The sheet has no rows.")),
    (r"the sheet has more than (?P<n>\d+) cells", N_("The sheet has more than %(n)s cells.")),
    (r"the (?:sheet|list) has more than (?P<n>\d+) \w+", N_("The file has more than %(n)s rows.")),
    (r"the sheet is larger than (?P<n>\d+) MB", N_("The sheet is larger than %(n)s MB.")),
    (
        r"the file is named (?P<ext>\.\w+) but is not a spreadsheet",
        N_("The file is named %(ext)s but is not a spreadsheet."),
    ),
    (r"the sheet goes beyond row (?P<n>\d+)", N_("The sheet goes beyond row %(n)s.")),
    (
        r"the sheet says it reaches row (?P<row>\d+); at most (?P<n>\d+) rows are read",
        N_("The sheet says it reaches row %(row)s; at most %(n)s rows are read."),
    ),
    (
        r"row (?P<row>\d+): a cell is longer than (?P<n>\d+) characters \(“(?P<value>[^”]*)…”\)",
        N_("Row %(row)s: a cell is longer than %(n)s characters (“%(value)s…”)."),
    ),
    (
        # The whole message only: "row N: a cell…" (above) is another, translated already.
        r"^a cell is longer than (?P<n>\d+) characters \(“(?P<value>[^”]*)…”\)",
        N_("A cell is longer than %(n)s characters (“%(value)s…”)."),
    ),
    (
        r"row (?P<row>\d+) is longer than (?P<n>\d+) characters",
        N_("Row %(row)s is longer than %(n)s characters."),
    ),
    (
        r"the XLSX file has more than (?P<n>\d+) parts",
        N_("The XLSX file has more than %(n)s parts."),
    ),
    (
        r"the XLSX file unpacks to more than (?P<n>\d+) MB",
        N_("The XLSX file unpacks to more than %(n)s MB."),
    ),
    (
        r"the XLSX file expands more than (?P<n>\d+) times when unpacked",
        N_("The XLSX file expands more than %(n)s times when unpacked."),
    ),
    (
        r"the XLSX file holds too much besides the cells[^:;]*: save the sheet as CSV",
        N_("The XLSX file holds too much besides the cells (styles, formatting): save it as CSV."),
    ),
    (
        r"the workbook has more than (?P<n>\d+) different texts",
        N_("The workbook has more than %(n)s different texts."),
    ),
    (
        r"the workbook has more than (?P<n>\d+) sheets",
        N_("The workbook has more than %(n)s sheets."),
    ),
    (r"the workbook has no worksheet", N_("The workbook has no worksheet.")),
    (r"not a readable XLSX file", N_("The XLSX file cannot be read.")),
    (r"not a readable CSV file[^;]*", N_("The CSV file cannot be read.")),
    (r"not a CSV or XLSX file", N_("This is not a CSV or XLSX file.")),
    (
        r"this is an old Excel 97-2003 \(\.xls\) file[^;]*",
        N_("Save the .xls file as .xlsx or CSV."),
    ),
    (r"this is (?:a PDF file|an image)[^;]*", N_("Upload the CSV or XLSX sheet.")),
    (r"only PDF, DOCX, XLSX and images are accepted", N_("Only PDF, DOCX, XLSX and images.")),
    (
        r"The file is larger than the limit of (?P<n>\d+) MB",
        N_("The file is larger than the limit of %(n)s MB."),
    ),
    (r"must be at most (?P<n>\d+) characters", N_("At most %(n)s characters.")),
    (r"must be a date \(YYYY-MM-DD\)", N_("Enter a date.")),
    (r"unknown status '(?P<value>[^']*)'", N_("There is no status “%(value)s”.")),
    (r"item (?P<n>\d+) has no title", N_("Item %(n)s has no title.")),
    (r"item (?P<n>\d+) is too long", N_("Item %(n)s is too long.")),
    (r"item (?P<n>\d+): not a time of day", N_("Item %(n)s: enter a time of day.")),
    (
        rf"item (?P<n>\d+): {re.escape(LINE_MESSAGE)}",
        N_("Item %(n)s: one line of text, without control characters."),
    ),
    (re.escape(LINE_MESSAGE), N_("One line of text, without control characters.")),
    (re.escape(TEXT_MESSAGE), N_("Remove the control characters (invisible ones such as NUL).")),
    (
        r"must be in the years (?P<first>\d+) to (?P<last>\d+)",
        N_("Choose a date in the years %(first)s to %(last)s."),
    ),
    (r"must not be empty", N_("Required.")),
]
_COMPILED = [(re.compile(pattern), msgid) for pattern, msgid in _PATTERNS]


def _replacer(language: str, msgid: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        values = {k: v for k, v in match.groupdict().items() if v is not None and k != "q"}
        for key, value in values.items():
            if key.startswith("status"):
                values[key] = gettext(language, f"status:{value}")
        return gettext(language, msgid, **values)

    return replace


def translate(language: str, message: str) -> str:
    """`message` with every part a pattern knows put into `language`."""
    text = message
    for pattern, msgid in _COMPILED:
        text = pattern.sub(_replacer(language, msgid), text)
    return text


def raw_message(error: ConfhubError) -> str:
    """An error's message, without the field name bad input carries in its detail."""
    if isinstance(error, InvalidInputError) and error.extra:
        return str(error.extra[0]["message"])
    return error.detail
