"""The conventions of issue #15 that `grep` can hold, so they cannot drift silently (as the
import-linter contract holds the layers): handlers ask for services by provider and never reach
through `service.repository.session`; the SQLAlchemy plugin's autocommit is a request's only
transaction policy (a handler or service that must end it early says why through
`confhub.db.transactions.release_connection`); and "is this SQLite" has one answer,
`confhub.db.is_sqlite`."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import pytest

import confhub

pytestmark = pytest.mark.unit

SRC = Path(confhub.__file__).parent
# Sessions these modules open for work of their own (not a request's): theirs to commit.
OWN_SESSIONS = {
    "attendance/runtime.py",  # presence, batched in the writer's queue
    "attendance/writer.py",  # every door's attendance changes
    "attendance/speaking/desk.py",  # every door's speaking requests, in the writer's queue
    "attendance/desk/writer.py",  # incidents and announcements, in the same queue
    "notices/outbox.py",  # the delivery workers
    "core/request_session.py",  # the request's own transaction, committed before its answer
    "db/transactions.py",  # release_connection itself
    "db/migrations/env.py",  # Alembic's connection
}


def sources() -> dict[str, str]:
    """Every module of the package (migrations' scripts aside), by path under confhub/."""
    return {
        path.relative_to(SRC).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(SRC.rglob("*.py"))
        if "migrations/versions" not in path.as_posix()
    }


def lines_matching(pattern: str, allowed: Collection[str] = ()) -> list[str]:
    """`path:line: text` of every line matching `pattern` outside the `allowed` modules."""
    found = []
    for name, text in sources().items():
        if name in allowed:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_no_module_reaches_through_a_services_repository_for_its_session() -> None:
    assert lines_matching(r"\.repository\.session", {"db/services.py"}) == []


def test_handlers_ask_for_their_services_by_provider() -> None:
    # Pages and controllers (and their helpers) get services from the domains' deps.py.
    handlers = {
        name
        for name in sources()
        if "/controllers" in name or "/pages" in name or name.endswith("controllers.py")
    }
    others = set(sources()) - handlers
    assert lines_matching(r"\b[A-Z]\w*Service\(", others) == []


def test_only_sessions_of_their_own_are_committed() -> None:
    assert lines_matching(r"\.commit\(\)", OWN_SESSIONS) == []


def test_one_way_to_ask_whether_the_database_is_sqlite() -> None:
    pattern = r"dialect\.name|get_backend_name|startswith\(\s*[\"'](sqlite|postgres)"
    assert lines_matching(pattern, {"db/dialect.py"}) == []


def test_the_checks_find_what_they_look_for() -> None:
    # The helpers themselves are where the patterns are allowed: a check that cannot fail proves
    # nothing.
    assert lines_matching(r"\.repository\.session")
    assert any("transactions.py" in line for line in lines_matching(r"\.commit\(\)"))
    assert lines_matching(r"dialect\.name|get_backend_name")
    assert lines_matching(r"\b[A-Z]\w*Service\(")  # the providers themselves, in deps.py


def test_the_live_pages_know_every_kind_of_delta() -> None:
    """A delta type the browser's socket does not list is taken for a plain message: the board
    then misses it (a chair's answer to the invitation stayed unseen until the next delta)."""
    from confhub.attendance.models import EventType

    socket_js = (Path(confhub.__file__).parents[2] / "static/js/live/socket.js").read_text()
    listed = re.search(r"const DELTA_TYPES = new Set\(\[([^\]]*)\]\)", socket_js)
    assert listed is not None, "socket.js no longer names its DELTA_TYPES"
    assert set(re.findall(r'"(\w+)"', listed.group(1))) == {kind.value for kind in EventType}
