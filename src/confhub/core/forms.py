"""The web forms' one way of answering: a success is a 303 to the next page (Post/Redirect/Get,
with `?done=` saying what was done); a refusal shows the form's page again, with the error's
message next to its field, in the page's language, and what was typed kept.

:func:`submit` runs a form's action and owns what a refusal needs: the rollback of what the
action had done, and the page's status code (the error's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    PayloadTooLargeError,
)
from confhub.core.i18n import language_of
from confhub.core.messages import Renderable, sentence

T = TypeVar("T")

# What a form's action may be refused with; anything else is the error page, as for the API.
FORM_ERRORS = (InvalidInputError, ConflictError, PayloadTooLargeError)


class _Session(Protocol):
    async def rollback(self) -> None: ...


def form_text(form: FormMultiDict, name: str, *, strip: bool = True) -> str:
    """A text field of a submitted form ('' when absent or a file), stripped unless `strip` is
    False (a text whose spaces are part of it, such as Markdown)."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


def form_values(form: FormMultiDict, *names: str) -> dict[str, Any]:
    """Some fields as typed, to show again."""
    return {name: form_text(form, name) for name in names}


def see_other(
    path: str, done: str | None = None, *, anchor: str | None = None, **params: Any
) -> Redirect:
    """The answer to a successful POST: go to `path`, saying what was done (`?done=`)."""
    query = {"done": done, **params} if done else params
    query = {k: v for k, v in query.items() if v is not None}
    target = f"{path}?{urlencode(query)}" if query else path
    return Redirect(f"{target}#{anchor}" if anchor else target, status_code=303)


def page_errors(
    request: Request[Any, Any, Any], errors: Mapping[str, Renderable] | None
) -> dict[str, str]:
    """Errors by field, each a sentence in the page's language."""
    language = language_of(request)
    return {key: sentence(message.render(language)) for key, message in (errors or {}).items()}


def page_error(request: Request[Any, Any, Any], error: ConfhubError | None) -> str | None:
    """One refusal as a page shows it above its form: a sentence in the page's language."""
    return sentence(error.message.render(language_of(request))) if error else None


async def submit(
    session: _Session,
    action: Callable[[], Awaitable[T]],
    *,
    done: Redirect | Callable[[T], Redirect | Template],
    refused: Callable[[ConfhubError], Awaitable[Template]],
) -> Template | Redirect:
    """Do a form's `action`; on success answer `done` (or `done(result)`). When a service refuses
    it (:data:`FORM_ERRORS`), roll back what it did and answer `refused(error)`: the page again
    (with `error.message`), whose status becomes the error's."""
    try:
        result = await action()
    except FORM_ERRORS as error:
        await session.rollback()
        page = await refused(error)
        page.status_code = error.status_code
        return page
    return done if isinstance(done, Redirect) else done(result)
