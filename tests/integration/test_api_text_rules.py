"""Every text field of every JSON body and every free-text query parameter of the API declares
the rule its text follows (issue #14, item 7): one line (`confhub.core.text.LINE_PATTERN`) or
several (`TEXT_PATTERN`), so the OpenAPI document says it and msgspec refuses the rest with a 400
naming the field. A new field without the rule fails here, before PostgreSQL meets its NUL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from confhub.attendance.desk.schemas import CLIENT_ID_PATTERN
from confhub.core.text import LINE_PATTERN, TEXT_PATTERN
from tests.integration.test_api_fuzz import DOCUMENT

pytestmark = pytest.mark.integration

# Strings that need no text rule, and why.
EXEMPT = {
    # Only ever hashed; any text will do, and it is never stored or shown.
    ("POST", "/api/v1/auth/login", "body.password"),
    # A union inside a list: Litestar leaves its constraints out of the document; msgspec still
    # applies them (tests/integration/meetings/test_hostile_input.py sends such entries).
    ("POST", "/api/v1/meetings/{meeting_id}/invitations", "body.unit_codes[]"),
    # A multipart field of a dataclass: the same (tests/integration/news/test_hostile_input.py).
    ("POST", "/api/v1/meetings/{meeting_id}/minutes/photos", "body.caption"),
    # Items of a list: Litestar leaves their constraints out of the document; msgspec applies
    # them, and each phone must then be a Vietnamese number (tests/unit/test_phones.py).
    ("PUT", "/api/v1/points/{point_id}/contacts", "body.phones[]"),
}
CONSTRAINED = ("pattern", "enum", "const", "format")


def strings(
    schema: dict[str, Any], where: str, outer: dict[str, Any]
) -> Iterator[tuple[str, dict]]:
    """Each string in `schema` with the constraints that apply to it (Litestar puts a union's
    constraints beside its `oneOf`)."""
    if "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    here = {**outer, **{k: v for k, v in schema.items() if k in CONSTRAINED}}
    for union in ("oneOf", "anyOf"):
        for member in schema.get(union, []):
            yield from strings(member, where, here)
    if schema.get("type") == "string":
        yield where, here
    for name, member in schema.get("properties", {}).items():
        yield from strings(member, f"{where}.{name}", {})
    if schema.get("type") == "array":
        yield from strings(schema.get("items", {}), f"{where}[]", {})


def request_strings() -> Iterator[tuple[tuple[str, str, str], dict[str, Any]]]:
    """Every string a client sends in a body or a query, by (method, path, field)."""
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for where, found in strings(content["schema"], "body", {}):
                    yield (method.upper(), path, where), found
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    where = f"query.{parameter['name']}"
                    for _, found in strings(parameter["schema"], where, {}):
                        yield (method.upper(), path, where), found


def test_every_text_a_client_sends_declares_its_rule() -> None:
    found = dict(request_strings())
    assert ("PUT", "/api/v1/meetings/{meeting_id}/minutes", "body.markdown") in found
    unruled = sorted(
        field
        for field, constraints in found.items()
        if field not in EXEMPT and not any(k in constraints for k in CONSTRAINED)
    )
    assert not unruled, f"declare Line or Text (confhub.core.text) on {unruled}"
    assert set(found) >= EXEMPT, "an exemption names a field that is gone"


def test_free_text_is_one_of_the_two_rules() -> None:
    free = {
        field: constraints["pattern"]
        for field, constraints in request_strings()
        if "pattern" in constraints and "enum" not in constraints
    }
    others = {f: p for f, p in free.items() if p not in (LINE_PATTERN, TEXT_PATTERN)}
    # The phone numbers have a stricter pattern of their own; so have the ids a client gives its
    # incident or announcement (letters, digits, `. _ : -`: the incident's id is then a path
    # segment of its PATCH, docs/contract-additions.md), where a speaking request's request_id
    # takes one line.
    client_ids = {
        ("POST", "/api/v1/meetings/{meeting_id}/incidents", "body.incident_id"),
        ("POST", "/api/v1/meetings/{meeting_id}/announcements", "body.announcement_id"),
    }
    assert set(others) == {
        ("PUT", "/api/v1/meetings/{meeting_id}/points/{point_id}/chair", "body.phone"),
        ("POST", "/api/v1/meetings", "body.technician_phone"),
        ("PATCH", "/api/v1/meetings/{meeting_id}", "body.technician_phone"),
        *client_ids,
    }
    assert {others[field] for field in client_ids} == {CLIENT_ID_PATTERN}
    assert free[("POST", "/api/v1/meetings", "body.title")] == LINE_PATTERN
    assert free[("POST", "/api/v1/meetings", "body.description")] == TEXT_PATTERN
