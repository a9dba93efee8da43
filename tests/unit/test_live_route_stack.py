"""The live route goes through the handshake gate alone of the app's middleware, straight to
its handler (confhub.attendance.handshake.LiveRoute): each layer around a socket's handler is
held for the socket's life (issue 20). Other routes keep the whole stack."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from litestar.middleware.session.base import SessionMiddleware

from confhub.accounts.middleware import PrincipalMiddleware
from confhub.app import create_app
from confhub.attendance.handshake import LiveHandshakeGate
from confhub.core.i18n import LanguageMiddleware
from confhub.core.request_session import RequestTransaction
from tests.helpers.apps import make_settings


def _inner(layer: Any) -> Any:
    """The ASGI app a layer calls: its `app`, or the one a middleware function closes over
    (Litestar's `ASGIMiddleware`)."""
    if hasattr(layer, "app"):
        return layer.app
    if inspect.isfunction(layer):
        return inspect.getclosurevars(layer).nonlocals.get("app")
    return None


def _layers(asgi_app: Any) -> list[Any]:
    """The chain of ASGI apps from a route's entry to its handler."""
    layers = [asgi_app]
    while (inner := _inner(layers[-1])) is not None:
        layers.append(inner)
    return layers


def test_the_live_route_holds_the_gate_alone(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", tmp_path))
    live_app, handler, *_ = app.asgi_router._handle_routing("/ws/meetings/7", None)
    assert handler.name == "live"
    gate, route_entry = _layers(live_app)
    assert isinstance(gate, LiveHandshakeGate)
    assert route_entry.__name__ == "handle"  # the route itself (WebSocketRoute.handle)


def test_a_page_keeps_the_session_principal_and_language_layers(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", tmp_path))
    page_app, *_ = app.asgi_router._handle_routing("/", "GET")
    layers = _layers(page_app)
    kinds = {type(layer) for layer in layers}
    assert {SessionMiddleware, PrincipalMiddleware, LanguageMiddleware} <= kinds
    # RequestTransaction is a Litestar ASGIMiddleware: a function closing over its instance.
    assert any(
        isinstance(inspect.getclosurevars(layer).nonlocals.get("self"), RequestTransaction)
        for layer in layers
        if inspect.isfunction(layer)
    )
    assert layers[-1].__name__ == "handle"
