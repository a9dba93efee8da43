"""Finding units from what people type or paste: a code, a full name, a bare name or a codename.

Spreadsheets from communes say "15148", "Xã Cẩm Tú", "Cẩm Tú" or "cam tu"; all mean the same unit
in Thanh Hóa. A bare name matching two units (a xã and a phường of the same name) is ambiguous and
reported, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from confhub.core.i18n import N_
from confhub.core.messages import Message
from confhub.core.text import is_digits
from confhub.db import DbSession
from confhub.units.models import Unit

_TYPE_PREFIXES = ("đặc khu ", "phường ", "xã ")


def normalize(text: str) -> str:
    """Case-folded, NFC, single-spaced."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def fold(text: str) -> str:
    """Without diacritics ("Cẩm Tú" → "cam tu"), for typing on a keyboard without Telex."""
    decomposed = unicodedata.normalize("NFD", normalize(text).replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _bare(name: str) -> str:
    lowered = normalize(name)
    for prefix in _TYPE_PREFIXES:
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return lowered


@dataclass(frozen=True)
class UnitMatch:
    """What one entry resolved to: a unit, or an error saying why not."""

    entry: str
    unit: Unit | None
    error: Message | None = None

    @property
    def problem(self) -> Message:
        """The entry and why it names no unit, as a list of failures says it."""
        return Message(N_("%(entry)s: %(error)s"), {"entry": self.entry, "error": self.error})


class UnitIndex:
    """Lookup of a set of units by code and by every accepted spelling of their names."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self.by_code: dict[int, Unit] = {}
        self.by_name: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            self.by_code[unit.code] = unit
            keys = {
                normalize(unit.name),
                _bare(unit.name),
                fold(unit.name),
                fold(_bare(unit.name)),
                normalize(unit.codename).replace("_", " "),
            }
            for key in keys:
                self.by_name[key].append(unit)

    def match(self, entry: str) -> UnitMatch:
        """Resolve one entry; codes are exact, names may be full, bare or without accents."""
        text = entry.strip()
        if not text:
            return UnitMatch(entry, None, Message(N_("empty")))
        if is_digits(text):
            unit = self.by_code.get(int(text))
            missing = Message(N_("no unit has the code %(code)s"), {"code": text})
            return UnitMatch(entry, unit, None if unit else missing)
        for key in (normalize(text), fold(text)):
            found = {u.code: u for u in self.by_name.get(key, [])}
            if len(found) == 1:
                return UnitMatch(entry, next(iter(found.values())))
            if len(found) > 1:
                names = ", ".join(f"{u.name} ({u.code})" for u in found.values())
                ambiguous = Message(N_("ambiguous (%(names)s): use the code"), {"names": names})
                return UnitMatch(entry, None, ambiguous)
        return UnitMatch(entry, None, Message(N_("no unit named '%(name)s'"), {"name": text}))


async def unit_index(session: DbSession, province_code: int | None) -> UnitIndex:
    """An index of one province's units (or of every unit, for national meetings)."""
    query = select(Unit)
    if province_code is not None:
        query = query.where(Unit.province_code == province_code)
    return UnitIndex(await session.scalars(query))


def split_entries(text: str) -> list[str]:
    """A pasted list: one entry per line, or separated by commas or semicolons."""
    return [part.strip() for part in re.split(r"[\n;,\t]+", text) if part.strip()]
