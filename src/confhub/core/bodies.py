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
from confhub.core.messages import Message
from confhub.core.text import explain

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


def first_refusal(
    fields: Mapping[str, Any],
    kind: type[msgspec.Struct],
    must_be: Mapping[str, Message],
    whole: tuple[str, str],
) -> InvalidInputError:
    """The first of `fields` that `kind` refuses, found field by field once the whole has been
    refused (a live message or a form names its field as an HTTP body's 400 does): an unknown
    field, a missing required one, or a value breaking its rule (`must_be` says each field's
    rule in words, a text rule its own). `whole` names the refusal when no one field is at fault.
    """
    unknown = unknown_field(fields, kind)
    if unknown is not None:
        return unknown
    for info in msgspec.structs.fields(kind):
        if info.name not in fields:
            if info.required:
                return InvalidInputError(info.name, must_be[info.name])
            continue
        try:
            msgspec.convert(fields[info.name], info.type, strict=False)
        except msgspec.ValidationError as exc:
            said = str(exc)
            rule = explain(said)  # a text rule, in words
            return InvalidInputError(info.name, rule if rule != said else must_be[info.name])
    return InvalidInputError(*whole)
