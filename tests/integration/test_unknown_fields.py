"""A field the API does not know is refused, not silently dropped (issue #16, item 2): every
JSON body of every write route (POST, PUT, PATCH) answers a field it does not take with a 400
naming it, the same way.

The routes come from the app's own route table, so a write route added later is checked too
without being listed here; its body must derive from `confhub.core.bodies.Body`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from confhub.core.bodies import Body
from confhub.demo import DemoSeed

pytestmark = pytest.mark.integration

WRITES = {"POST", "PUT", "PATCH"}
STRANGER = "zz_not_a_field"


def json_write_routes(app: Litestar) -> list[tuple[str, str, Any]]:
    """(method, path, body type) of every route that reads a JSON body."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            field = handler.parsed_data_field
            if field is None:
                continue
            media = getattr(field.kwarg_definition, "media_type", RequestEncodingType.JSON)
            if media != RequestEncodingType.JSON:
                continue  # forms and uploads: pages and files, not JSON
            for method in sorted(set(handler.http_methods) & WRITES):
                found.append((method, route.path, field.annotation))
    return sorted(found, key=lambda r: (r[1], r[0]))


def _structs(kind: Any) -> list[type[msgspec.Struct]]:
    """The struct types a body type is made of (itself, its list items, its fields')."""
    info = msgspec.inspect.type_info(kind)
    found: list[type[msgspec.Struct]] = []

    def walk(node: Any) -> None:
        if isinstance(node, msgspec.inspect.StructType):
            if node.cls in found:
                return
            found.append(node.cls)
            for f in node.fields:
                walk(f.type)
        elif isinstance(node, msgspec.inspect.UnionType):
            for t in node.types:
                walk(t)
        elif isinstance(node, msgspec.inspect.ListType | msgspec.inspect.SetType):
            walk(node.item_type)

    walk(info)
    return found


def test_every_json_body_is_a_body(demo_app: Litestar) -> None:
    routes = json_write_routes(demo_app)
    assert len(routes) >= 20, routes  # the meetings, attendance, news and notices APIs
    for method, path, kind in routes:
        structs = _structs(kind)
        assert structs, f"{method} {path}: its body is not a struct"
        for struct in structs:
            assert issubclass(struct, Body), f"{method} {path}: {struct.__name__} is not a Body"


def _path(template: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        return str(ids.get(name, 1 if kind == "int" else "r-1"))

    return re.sub(r"\{(\w+):(\w+)\}", value, template)


def test_every_write_route_refuses_an_unknown_field(
    demo_app: Litestar, secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points?limit=1").json()["items"]
    ids = {"meeting_id": meeting_id, "point_id": points[0]["point_id"]}
    answers = {}
    for method, template, _ in json_write_routes(demo_app):
        path = _path(template, ids)
        response = secretariat.request(method, path, json={STRANGER: 1})
        answers[f"{method} {template}"] = (response.status_code, response.json().get("detail"))
    expected = (400, f"{STRANGER}: unknown field, not one this request takes")
    wrong = {route: answer for route, answer in answers.items() if answer != expected}
    assert not wrong, wrong


def test_a_known_body_with_one_stranger_is_refused_whole(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    before = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    response = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"title": "Đổi tên", "fax": "0237 385 2468"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "fax: unknown field, not one this request takes"
    assert secretariat.get(f"/api/v1/meetings/{meeting_id}").json()["title"] == before["title"]
    # Nested: an agenda item with a stranger names where it is.
    response = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"agenda": [{"title": "Khai mạc", "room": "A"}]}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "agenda[0].room: unknown field, not one this request takes"
