"""The message catalogs are complete and the language choice and formats are the Vietnamese ones.

Extraction uses the project's own `babel.cfg`, so a template string added without a Vietnamese
translation (run `make messages`, then translate) fails here rather than in front of a user.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from litestar.connection import ASGIConnection

import confhub.app  # noqa: F401 - every domain's errors, for ConfhubError.__subclasses__()
from confhub.accounts.models import Role
from confhub.attendance.desk.models import IncidentKind, IncidentState
from confhub.core import i18n
from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.timefmt import format_meeting_time, format_number
from confhub.meetings.models import MeetingStatus

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
STATUS_KEYS = {f"status:{status.value}" for status in MeetingStatus}
INCIDENT_KEYS = {f"incident:{word.value}" for word in (*IncidentKind, *IncidentState)}
DYNAMIC_KEYS = STATUS_KEYS | {role.value for role in Role} | INCIDENT_KEYS


@cache
def extracted() -> dict[str, list[str]]:
    """Every msgid found in src/ and templates/ through babel.cfg, with where it was found."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@cache
def catalog(language: str) -> Catalog:
    """The `.po` catalog the app loads for `language`."""
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def translated(language: str, msgid: str) -> str | None:
    """The catalog's usable translation: present, non-empty and not fuzzy."""
    message = catalog(language).get(msgid)
    if message is None or message.fuzzy or not message.string:
        return None
    return str(message.string)


def connection(
    query: str = "", cookie: str | None = None, accept_language: str | None = None
) -> ASGIConnection[Any, Any, Any, Any]:
    """A bare HTTP connection with the given language hints."""
    headers: list[tuple[bytes, bytes]] = []
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    if accept_language is not None:
        headers.append((b"accept-language", accept_language.encode()))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": query.encode(),
        "headers": headers,
    }
    return ASGIConnection(scope)  # type: ignore[arg-type]


def test_extraction_finds_the_templates_and_the_dynamic_keys() -> None:
    found = extracted()
    assert "Sign in" in found
    assert "%(count)s connection points" in found
    assert any(place.startswith("templates/") for place in found["Sign in"])
    assert set(found) >= DYNAMIC_KEYS, "list new statuses/roles in i18n.DYNAMIC_MESSAGES"
    assert set(i18n.DYNAMIC_MESSAGES) == DYNAMIC_KEYS


def test_every_msgid_has_a_vietnamese_translation() -> None:
    missing = {
        msgid: places for msgid, places in extracted().items() if not translated("vi", msgid)
    }
    assert not missing, f"untranslated in vi (run `make messages`, then translate): {missing}"


def _error_classes() -> dict[str, int | None]:
    """Every error class by name → where its message id is among the positional arguments
    (None: its constructor takes no message, such as ServiceUnavailableError's dependency)."""
    found: dict[str, int | None] = {}
    pending: list[type[ConfhubError]] = [ConfhubError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if issubclass(cls, InvalidInputError):
            found[cls.__name__] = 1
        elif cls is ConfhubError or "__init__" not in vars(cls):
            found[cls.__name__] = 0
        else:
            found[cls.__name__] = None
    return found


# What else takes a message id first: a Message itself, and the sheets' `refused_file(...)`.
MESSAGE_TAKERS = {"Message": 0, "refused_file": 0}


def _is_bare_text(node: ast.expr) -> bool:
    """English written without `N_`: a string, an f-string, or text put together or formatted."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def unmarked_messages(source: str, takers: dict[str, int | None]) -> list[int]:
    """The lines of `source` that build an error (or a Message) from text not marked with `N_`:
    `make messages` cannot see it, so no catalog would ever translate it."""
    lines = []
    error_classes = {name for name, position in takers.items() if name.endswith("Error")}
    for node in ast.walk(ast.parse(source)):
        calls: list[tuple[ast.Call, int | None]] = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            calls.append((node, takers.get(name)))
        if isinstance(node, ast.ClassDef) and node.name in error_classes:
            # An error class's own constructor passes its words to ConfhubError.__init__.
            calls.extend(
                (inner, 0)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr == "__init__"
            )
        for call, position in calls:
            arguments = call.args
            if position is not None and len(arguments) > position:
                lines.extend([call.lineno] if _is_bare_text(arguments[position]) else [])
    return lines


def test_errors_are_raised_with_message_ids_the_catalogs_extract() -> None:
    takers = _error_classes() | MESSAGE_TAKERS
    assert {"InvalidInputError", "ConflictError", "NotFoundError"} <= set(takers)
    # Every package's, the domain-defined ones (TooManySignInAttemptsError, …) included.
    assert {"TooManySignInAttemptsError", "TooManyPreviewsError"} <= set(takers)
    unmarked = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "src" / "confhub").rglob("*.py"))
        if (lines := unmarked_messages(path.read_text(encoding="utf-8"), takers))
    }
    assert not unmarked, f"mark the message with N_ (confhub.core.i18n): {unmarked}"


def test_an_unmarked_or_untranslated_message_is_caught(tmp_path: Path) -> None:
    takers = _error_classes() | MESSAGE_TAKERS
    unmarked = """
def refuse(n):
    raise ConflictError(f"The meeting is {n}")
def refuse_field(n):
    raise InvalidInputError("title", "must be " + n)
"""
    assert unmarked_messages(unmarked, takers) == [3, 5]
    marked = """from confhub.core.i18n import N_
def refuse(n):
    raise ConflictError(N_("A refusal no catalog has heard of: %(n)s"), n=n)
"""
    assert unmarked_messages(marked, takers) == []
    # Marked, it is extracted, so the completeness test above names it until it is translated.
    (tmp_path / "new.py").write_text(marked, encoding="utf-8")
    extracted_ids = {message for _f, _l, message, *_ in extract_from_dir(tmp_path)}
    assert extracted_ids == {"A refusal no catalog has heard of: %(n)s"}
    assert translated("vi", "A refusal no catalog has heard of: %(n)s") is None


def test_the_template_file_is_up_to_date() -> None:
    with (i18n.LOCALES_DIR / "messages.pot").open("rb") as pot_file:
        template = read_po(pot_file)
    stale = sorted(set(extracted()) - {message.id for message in template if message.id})
    assert not stale, f"messages.pot lacks {stale}: run `make messages`"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dynamic_keys_are_translated(language: str) -> None:
    missing = sorted(key for key in DYNAMIC_KEYS if not translated(language, key))
    assert not missing, f"{language} catalog lacks {missing}"


def test_english_catalog_holds_only_the_dynamic_keys() -> None:
    english = {message.id for message in catalog("en") if message.id and message.string}
    assert english == DYNAMIC_KEYS


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("status:draft", "Bản nháp"),
        ("status:scheduled", "Đã lên lịch"),
        ("status:live", "Đang diễn ra"),
        ("status:ended", "Đã kết thúc"),
        ("status:cancelled", "Đã hủy"),
        ("admin", "Quản trị"),
        ("secretariat", "Thư ký hội nghị"),
        ("chair", "Chủ trì điểm cầu"),
        ("viewer", "Người xem"),
        ("Sign in", "Đăng nhập"),
        ("Sign out", "Đăng xuất"),
        ("Online conferences", "Hội nghị trực tuyến"),
        ("Connection point", "Điểm cầu"),
    ],
)
def test_vietnamese_wording(msgid: str, expected: str) -> None:
    assert i18n.gettext("vi", msgid) == expected


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("status:draft", "Draft"),
        ("status:scheduled", "Scheduled"),
        ("status:live", "Live"),
        ("status:ended", "Ended"),
        ("status:cancelled", "Cancelled"),
        ("admin", "Administrator"),
        ("secretariat", "Secretariat"),
        ("chair", "Chair"),
        ("viewer", "Viewer"),
        ("Sign in", "Sign in"),  # not in the catalog: the source text is the English text
    ],
)
def test_english_wording(msgid: str, expected: str) -> None:
    assert i18n.gettext("en", msgid) == expected


def test_placeholders_survive_translation() -> None:
    wrong = {}
    for message in catalog("vi"):
        if not message.id or not message.string:
            continue
        expected = sorted(PLACEHOLDER.findall(str(message.id)))
        if sorted(PLACEHOLDER.findall(str(message.string))) != expected:
            wrong[message.id] = message.string
            continue
        # The app fills placeholders with `%`: a stray `%` in a translation would raise there.
        if expected:
            str(message.string) % dict.fromkeys(expected, "x")
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def test_placeholders_are_filled() -> None:
    assert i18n.gettext("vi", "%(count)s connection points", count="166") == "166 điểm cầu"
    assert i18n.gettext("en", "%(count)s connection points", count="166") == (
        "166 connection points"
    )
    assert i18n.gettext("vi", "Error %(code)s", code=404) == "Lỗi 404"


@pytest.mark.parametrize(
    ("query", "cookie", "accept_language", "expected"),
    [
        ("", None, None, "vi"),
        ("lang=en", "lang=vi", "vi", "en"),
        ("lang=vi", "lang=en", "en", "vi"),
        ("", "lang=en", "vi", "en"),
        ("", "lang=vi", "en-US,en;q=0.9", "vi"),
        ("", None, "en-US,en;q=0.9", "en"),
        ("", None, "en", "en"),
        ("", None, "fr", "vi"),
        ("", None, "fr-FR,fr;q=0.9,en;q=0.8", "en"),
        ("", None, "en;q=0.5,vi;q=0.9", "vi"),
        ("lang=de", "lang=xx", "fr", "vi"),
        ("lang=de", None, "en", "en"),
        ("", None, "", "vi"),
        ("", None, "en;q=abc", "vi"),
        ("", None, "en;q=0", "vi"),
        ("", None, "EN-gb; q=0.8, vi;q=0.5", "en"),
    ],
)
def test_choose_language(
    query: str, cookie: str | None, accept_language: str | None, expected: str
) -> None:
    assert i18n.choose_language(connection(query, cookie, accept_language)) == expected


def test_meeting_time_in_vietnamese() -> None:
    start = datetime(2025, 9, 10, 7, 0, tzinfo=UTC)
    assert format_meeting_time(start, "Asia/Ho_Chi_Minh", "vi") == "14:00, thứ Tư, 10/09/2025"


def test_meeting_time_in_english() -> None:
    start = datetime(2025, 9, 10, 7, 0, tzinfo=UTC)
    assert format_meeting_time(start, "Asia/Ho_Chi_Minh", "en") == (
        "14:00, Wednesday, 10 September 2025"
    )


def test_sunday_is_chu_nhat() -> None:
    sunday = datetime(2025, 9, 14, 1, 30, tzinfo=UTC)
    assert format_meeting_time(sunday, "Asia/Ho_Chi_Minh", "vi") == "08:30, Chủ nhật, 14/09/2025"


def test_numbers() -> None:
    assert format_number(2050, "vi") == "2.050"
    assert format_number(2050, "en") == "2,050"
    assert format_number(166, "vi") == "166"
