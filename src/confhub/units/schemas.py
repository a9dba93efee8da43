"""What the units API returns."""

import msgspec


class UnitRead(msgspec.Struct):
    """A commune, ward or special zone by its official code."""

    code: int
    name: str
    type: str
    province_code: int


class ProvinceRead(msgspec.Struct):
    """A province or centrally-governed city."""

    code: int
    name: str
    type: str
