"""Vietnamese by default, English second: message catalogs (Babel `.po` files) and locale choice.

Catalogs are read from `confhub/locales/<lang>/LC_MESSAGES/messages.po` and compiled in memory at
start, so there is no build step and no compiled file to forget. Source strings are English.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import MiddlewareProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "lang"
# Pages whose language the phone's settings do not choose (a commune chair's phone is often set
# to English while everything around it is Vietnamese).
VIETNAMESE_FIRST = ("/checkin/",)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext_noop name, a Babel keyword
    """Mark `message` for extraction without translating it here."""
    return message


# Message ids that templates build at run time (`_("status:" ~ meeting.status)`,
# `_(principal.role.value)`), so the extractor cannot see them there. Listing them here keeps
# them in messages.pot; they are keys, not English, so the `en` catalog translates them too.
DYNAMIC_MESSAGES = (
    N_("status:draft"),
    N_("status:scheduled"),
    N_("status:live"),
    N_("status:ended"),
    N_("status:cancelled"),
    N_("admin"),
    N_("secretariat"),
    N_("chair"),
    N_("viewer"),
    N_("editor"),
    # An incident's kind and state (confhub.attendance.desk): `_("incident:" ~ value)`.
    N_("incident:no_video"),
    N_("incident:no_audio"),
    N_("incident:disconnected"),
    N_("incident:other"),
    N_("incident:open"),
    N_("incident:acknowledged"),
    N_("incident:resolved"),
)


@lru_cache(maxsize=len(SUPPORTED_LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (English falls back to the source strings)."""
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def _from_accept_language(header: str) -> str | None:
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, *params = piece.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:  # q=0 means "not acceptable" (RFC 9110)
            weighted.append((quality, tag.strip().lower().split("-")[0]))
    for _quality, lang in sorted(weighted, key=lambda item: -item[0]):
        if lang in SUPPORTED_LANGUAGES:
            return lang
    return None


def choose_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """`?lang=` first, then the `lang` cookie, then `Accept-Language`, then Vietnamese.

    The chair's check-in pages (`VIETNAMESE_FIRST`) stay Vietnamese whatever the phone's
    language: only `?lang=` (their switch) or the cookie it leaves changes them."""
    for candidate in (connection.query_params.get("lang"), connection.cookies.get(LANGUAGE_COOKIE)):
        if candidate in SUPPORTED_LANGUAGES:
            return str(candidate)
    if connection.scope.get("path", "").startswith(VIETNAMESE_FIRST):
        return DEFAULT_LANGUAGE
    return _from_accept_language(connection.headers.get("accept-language", "")) or DEFAULT_LANGUAGE


def language_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The language chosen for this request (cached on the connection's state)."""
    cached = connection.scope.get("state", {}).get("language")
    if cached:
        return str(cached)
    language = choose_language(connection)
    connection.scope.setdefault("state", {})["language"] = language
    return language


def gettext(language: str, message: str, **values: Any) -> str:
    """Translate `message` into `language`, then fill `%(name)s` placeholders."""
    text = str(translations(language).gettext(message))
    return text % values if values else text


class LanguageMiddleware(MiddlewareProtocol):
    """Chooses the request's language; an explicit `?lang=` is remembered in a cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record the language on the scope and, when chosen explicitly, set the cookie."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        language = language_of(connection)
        explicit = connection.query_params.get("lang") in SUPPORTED_LANGUAGES

        async def send_with_cookie(message: Message) -> None:
            if explicit and message["type"] == "http.response.start":
                cookie = f"{LANGUAGE_COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax"
                # Like the session cookie: no script reads it, and Secure behind TLS.
                cookie += "; HttpOnly"
                if connection.app.state.settings.base_url.startswith("https://"):
                    cookie += "; Secure"
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)
