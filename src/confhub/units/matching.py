"""Finding units from what people type or paste: a code, a full name, a bare name or a codename.

Spreadsheets from communes say "15148", "Xã Cẩm Tú", "Cẩm Tú" or "cam tu"; all mean the same unit
in Thanh Hóa. A bare name matching two units (a xã and a phường of the same name) is ambiguous and
reported, never guessed.
"""

from __future__ import annotations

import difflib
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
_FOLDED_PREFIXES = ("dac khu ", "phuong ", "xa ")
# How alike a typed name (without diacritics) must be to a unit's to be suggested: "Cam Tus" or
# "Cẩm Tùng" for Cẩm Tú, not every name sharing a syllable. (Codes: one slip away.)
NAME_CUTOFF = 0.75
# What an entry naming no unit is told (a caller may add a suggestion to these).
NO_CODE = N_("no unit has the code %(code)s")
NO_NAME = N_("no unit named '%(name)s'")


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
            missing = Message(NO_CODE, {"code": text})
            return UnitMatch(entry, unit, None if unit else missing)
        for key in (normalize(text), fold(text)):
            found = {u.code: u for u in self.by_name.get(key, [])}
            if len(found) == 1:
                return UnitMatch(entry, next(iter(found.values())))
            if len(found) > 1:
                names = ", ".join(f"{u.name} ({u.code})" for u in found.values())
                ambiguous = Message(N_("ambiguous (%(names)s): use the code"), {"names": names})
                return UnitMatch(entry, None, ambiguous)
        return UnitMatch(entry, None, Message(NO_NAME, {"name": text}))


def _folded_bare(text: str) -> str:
    """ "Xã Cẩm Tú" and "xa cam tu" → "cam tu"."""
    folded = fold(text)
    for prefix in _FOLDED_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def _near_codes(typed: str, units: Iterable[Unit]) -> list[Unit]:
    """Codes one slip away: two neighbouring digits swapped first ("15184" for 15148), then one
    digit wrong."""
    swapped: list[Unit] = []
    one_off: list[Unit] = []
    for unit in units:
        code = str(unit.code)
        if len(code) != len(typed) or code == typed:
            continue
        differ = [i for i, (a, b) in enumerate(zip(code, typed, strict=True)) if a != b]
        if len(differ) == 1:
            one_off.append(unit)
        elif len(differ) == 2 and differ[1] == differ[0] + 1:
            i = differ[0]
            if code[i] == typed[i + 1] and code[i + 1] == typed[i]:
                swapped.append(unit)
    return sorted(swapped, key=lambda u: u.code) + sorted(one_off, key=lambda u: u.code)


def near_misses(entry: str, units: Iterable[Unit], limit: int = 3) -> list[Unit]:
    """The units whose name (compared without diacritics or "xã"/"phường") or code is close to
    what was typed, the closest first: the "did you mean …" of a name or code naming no unit."""
    text = entry.strip()
    if not text:
        return []
    if is_digits(text):
        return _near_codes(text, units)[:limit]
    candidates: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        candidates[_folded_bare(unit.name)].append(unit)
    close = difflib.get_close_matches(
        _folded_bare(text), list(candidates), n=limit, cutoff=NAME_CUTOFF
    )
    found = {u.code: u for name in close for u in candidates[name]}
    return list(found.values())[:limit]


async def unit_index(session: DbSession, province_code: int | None) -> UnitIndex:
    """An index of one province's units (or of every unit, for national meetings)."""
    query = select(Unit)
    if province_code is not None:
        query = query.where(Unit.province_code == province_code)
    return UnitIndex(await session.scalars(query))


def split_entries(text: str) -> list[str]:
    """A pasted list: one entry per line, or separated by commas or semicolons."""
    return [part.strip() for part in re.split(r"[\n;,\t]+", text) if part.strip()]
