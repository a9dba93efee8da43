"""Words for a person that are said twice: in English to API clients, in the page's language to
people. A :class:`Message` is the English source text (marked with `N_` where it is written, so
`make messages` puts it into the catalogs) and the values of its placeholders; it renders itself
in English (`render()`) or in a language of the catalogs (`render("vi")`).

Errors carry one (:mod:`confhub.core.errors`); a page never reads English text to guess what it
meant. A value that is itself a word of the catalogs (a meeting's status) is a :class:`Word`;
a value that is a message (one entry's problem in a list) is rendered in the same language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confhub.core.i18n import gettext

# What ends a sentence already; anything else gets a full stop on a page.
_SENTENCE_ENDS = (".", "!", "?", "…")


class Renderable(Protocol):
    """Anything said in English to the API and in the page's language to people."""

    def render(self, language: str | None = None) -> str:
        """The text in `language`; None: the English source text, as the API says it."""
        ...


@dataclass(frozen=True)
class Word:
    """A value that is a word of the catalogs: the API says `english` (a status's code, as the
    API's own fields spell it); pages say the catalog's `key` in their language."""

    key: str
    english: str

    def render(self, language: str | None = None) -> str:
        """`english`, or the catalog's word for `key` in `language`."""
        return self.english if language is None else gettext(language, self.key)


def status_word(status: str) -> Word:
    """A meeting's status as a value: `scheduled` in the API, "Đã lên lịch" on a Vietnamese page."""
    return Word(f"status:{status}", status)


@dataclass(frozen=True)
class Message:
    """An English message id (marked with `N_`) and the values of its `%(name)s` placeholders."""

    id: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str | None = None) -> str:
        """The message with its values filled, in English (None) or in `language`."""
        values = {name: _rendered(value, language) for name, value in self.values.items()}
        if language is not None:
            return gettext(language, self.id, **values)
        return self.id % values if values else self.id


@dataclass(frozen=True)
class Messages:
    """Several messages said as one, separated by "; " (the problems of one row of a sheet)."""

    items: Sequence[Renderable]

    def render(self, language: str | None = None) -> str:
        """Every message in `language`, in order."""
        return "; ".join(item.render(language) for item in self.items)


def _rendered(value: Any, language: str | None) -> Any:
    render = getattr(value, "render", None)
    return render(language) if callable(render) else value


def sentence(text: str) -> str:
    """`text` as a page shows an error on its own: a capital first letter and a full stop (the
    API's English says "must not be empty"; a page says "Must not be empty.")."""
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith(_SENTENCE_ENDS) else f"{text}."
