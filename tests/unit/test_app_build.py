"""Building the app pauses the cyclic garbage collector (confhub.app) and leaves it as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from confhub.app import create_app
from tests.helpers.apps import make_settings


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_restored")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was_found(tmp_path: Path, enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", tmp_path))
    assert app.route_handler_method_map  # built
    assert gc.isenabled() is enabled
