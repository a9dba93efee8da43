"""Who sees a connection point's chair: personal data under Vietnam's Law on Personal Data
Protection (in force since 1 January 2026), so shown only to those whose work needs it.

The secretariat that organises the meeting (and admins) see every chair with the phone, to call
a point that has not answered; a unit's own accounts (its chair, its editor) see their own
points' chair. Viewers of a province, other units' chairs and anonymous visitors see that a
point has a chair and its position, never the name or the phone.
"""

from __future__ import annotations

from confhub.accounts.principal import Principal


def sees_chair(principal: Principal | None, province_code: int, unit_code: int | None) -> bool:
    """Whether `principal` may see the name and phone of the chair of a point of `unit_code`
    (None: the province's own point) in a meeting of `province_code`."""
    if principal is None:
        return False
    if principal.manages_province(province_code):
        return True
    return unit_code is not None and principal.unit_code == unit_code
