"""'Did you mean …' for a chair sheet's unit that names no unit (issue 18, item 11): names compared
without diacritics or their "xã"/"phường", codes one slip away."""

from __future__ import annotations

from confhub.units.matching import near_misses
from confhub.units.models import Unit

UNITS = [
    Unit(code=15148, name="Xã Cẩm Tú", province_code=38),
    Unit(code=15178, name="Xã Cẩm Tân", province_code=38),
    Unit(code=14797, name="Phường Hạc Thành", province_code=38),
    Unit(code=15181, name="Xã Cẩm Vân", province_code=38),
]


def names(entry: str) -> list[str]:
    return [unit.name for unit in near_misses(entry, UNITS)]


def test_names_are_compared_folded() -> None:
    assert names("Cam Tus") == ["Xã Cẩm Tú"]
    assert names("phuong hac than") == ["Phường Hạc Thành"]
    assert names("Xã Đông Sơn") == []
    assert names("") == []


def test_codes_one_slip_away_swapped_digits_first() -> None:
    assert names("15184") == ["Xã Cẩm Tú", "Xã Cẩm Vân"]  # 15148 swapped, 15181 one digit
    assert names("99999") == []
    assert names("1514") == []
