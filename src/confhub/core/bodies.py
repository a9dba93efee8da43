"""The one way every JSON body the API takes is read: a :class:`Body` refuses a field it does not
know (a 400 naming it, `<field>: unknown field, not one this request takes`) instead of
dropping it silently, so a client's misspelt or outdated field never looks accepted.

Every request body's struct derives from :class:`Body` (tests/integration/test_unknown_fields.py
finds them from the app's routes). The live channel's messages are read by the same structs;
:func:`unknown_field` names a field they refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

UNKNOWN_FIELD = N_("unknown field, not one this request takes")


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A JSON request body (or a part of one): an unknown field is a 400 naming it."""


def unknown_field(
    fields: Mapping[str, Any], kind: type[msgspec.Struct]
) -> InvalidInputError | None:
    """The refusal of the first of `fields` that `kind` does not take, or None."""
    known = {info.encode_name for info in msgspec.structs.fields(kind)}
    for name in fields:
        if name not in known:
            return InvalidInputError(str(name)[:100], UNKNOWN_FIELD)
    return None
