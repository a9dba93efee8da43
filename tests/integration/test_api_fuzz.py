"""Schemathesis against the app's own OpenAPI document: every JSON operation, anonymous and as
each role, must never answer 5xx and must answer only what the document says (status codes,
content types and bodies). A second run sends valid and invalid data (schemathesis's negative
mode) as the admin and the secretariat to the app on PostgreSQL, the production database, whose
columns are stricter than SQLite's (32-bit integers, no NUL in text): never a 5xx there either.

The document comes from the app itself (what `/schema/openapi.json` serves); requests go to an
in-process app over a private copy of the demo database, one per module, so what the fuzzing
writes stays here. The run is bounded and derandomized (a fixed seed, no example database), so
CI sees the same cases every time: every phase as the province's secretariat, a few random cases
per operation for every other role, and a short stateful run along the links schemathesis infers
(a listed or created meeting is read, changed, its points invited...).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import ASGIClient, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import (
    TemplateDb,
    make_settings,
    postgres_database,
    seed_postgres_demo,
    sqlite_url,
)
from tests.helpers.accounts import create_accounts

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 2025_09_10
# The Thanh Hóa secretariat reaches the most code (it may change its meetings): every phase
# (schema examples, boundary coverage, random fuzzing); the other roles mostly meet the
# authorization checks, so a few random cases per operation are enough for them.
FULL_EXAMPLES = 10
LIGHT_EXAMPLES = 4
STATEFUL_RUNS = 10
STATEFUL_STEPS = 8
# On PostgreSQL: schema examples and boundary coverage, then a few random valid and invalid cases
# per operation (invalid ones must be refused with a 4xx, never a 5xx). Half the ids and codes
# are the seeded ones (a fresh database numbers them the same every time; the fixture checks),
# so invalid text and numbers also reach the queries and writes behind a found meeting.
POSTGRES_EXAMPLES = 5
SEEDED = {
    "meeting_id": [1, 2],  # the demo's past (ended) and upcoming (scheduled) conferences
    "point_id": [1539],  # Xã Cẩm Tú's point, invited to both
    "province_code": [38],
    "province": [38],
    "unit": [15148],
}
PASSWORD = "a-long-password-1"

ANON = "anonymous"
VIEWER = "viewer"
CHAIR = "chair"
SECRETARIAT = "secretariat"
OTHER_SECRETARIAT = "secretariat of Hà Nội"
ADMIN = "admin"
OTHER_ROLES = (ANON, VIEWER, CHAIR, OTHER_SECRETARIAT, ADMIN)

# Operations that change who the client is: each case gets a client of its own.
SESSION_CHANGING = {"/api/v1/auth/login", "/api/v1/auth/logout"}

# "No 5xx", and "only the documented answers": status codes, content types and bodies.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def openapi_document() -> dict[str, Any]:
    """The document `/schema/openapi.json` serves (building it touches no database)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(make_settings(sqlite_url(Path(folder) / "none.sqlite3"), Path(folder)))
        return app.openapi_schema.to_schema()


def fuzz_config(max_examples: int, coverage: bool) -> SchemathesisConfig:
    """Bounded and repeatable: a fixed seed, derandomized, no example database."""
    config = SchemathesisConfig(seed=SEED)
    project = config.projects.default
    project.generation.update(max_examples=max_examples, deterministic=True, database="none")
    project.phases.coverage.enabled = coverage
    project.phases.stateful.max_steps = STATEFUL_STEPS
    return config


DOCUMENT = openapi_document()
full_schema = schemathesis.openapi.from_dict(DOCUMENT, config=fuzz_config(FULL_EXAMPLES, True))
light_schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=fuzz_config(LIGHT_EXAMPLES, coverage=False)
)


def postgres_fuzz_config() -> SchemathesisConfig:
    """Valid and invalid data (`mode: all`), half the ids taken from the seed."""
    parameters: dict[str, Any] = {}
    for name in SEEDED:
        parameters[name] = {"dictionary": name, "probability": 0.5}
        parameters[f"body.{name}"] = {"dictionary": name, "probability": 0.5}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "dictionaries": {name: {"values": values} for name, values in SEEDED.items()},
            "parameters": parameters,
            "generation": {
                "mode": "all",
                "max-examples": POSTGRES_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
        }
    )


postgres_schema = schemathesis.openapi.from_dict(DOCUMENT, config=postgres_fuzz_config())


def create_users(db_url: str) -> None:
    """The roles the demo does not seed."""
    create_accounts(
        db_url,
        [
            ("viewer@th.example", "viewer", {"province_code": 38}),
            ("secretariat@hn.example", "secretariat", {"province_code": 1}),
            ("admin@confhub.example", "admin", {}),
        ],
        PASSWORD,
    )


@pytest.fixture(scope="module")
def fuzz_app(
    demo_template: TemplateDb, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Litestar]:
    """The app over this module's own copy of the demo database."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "confhub.sqlite3"
    shutil.copyfile(demo_template.path, path)
    create_users(sqlite_url(path))
    yield create_app(make_settings(sqlite_url(path), folder))
    shutdown_lifespans()


@pytest.fixture(scope="module")
def sessions(fuzz_app: Litestar, demo_template: TemplateDb) -> dict[str, ASGIClient]:
    """One HTTP session per role, signed in."""
    seed = demo_template.seed
    assert isinstance(seed, DemoSeed)
    logins = {
        VIEWER: ("viewer@th.example", PASSWORD),
        CHAIR: (seed.chair_email, seed.chair_password),
        SECRETARIAT: (seed.organizer_email, seed.organizer_password),
        OTHER_SECRETARIAT: ("secretariat@hn.example", PASSWORD),
        ADMIN: ("admin@confhub.example", PASSWORD),
    }
    by_role = {ANON: ASGIClient(fuzz_app).__enter__()}
    for role, (email, password) in logins.items():
        client = ASGIClient(fuzz_app).__enter__()
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        by_role[role] = client
    return by_role


def call_and_check(case: schemathesis.Case, app: Litestar, session: ASGIClient) -> None:
    """Send the case as the session's user (sign-in and sign-out on a session of their own, so
    the role's stays signed in) and check the answer against the document."""
    if case.path in SESSION_CHANGING:
        with ASGIClient(app) as own:
            response = case.call(session=own, app=app)
    else:
        response = case.call(session=session, app=app)
    case.validate_response(response, checks=CHECKS)


@full_schema.parametrize()
def test_api_answers_as_documented_to_the_secretariat(
    case: schemathesis.Case, fuzz_app: Litestar, sessions: dict[str, ASGIClient]
) -> None:
    """No 5xx, and every answer is one the document lists, in the documented shape."""
    call_and_check(case, fuzz_app, sessions[SECRETARIAT])


@pytest.mark.parametrize("role", OTHER_ROLES)
@light_schema.parametrize()
def test_api_answers_as_documented_to_every_role(
    case: schemathesis.Case, role: str, fuzz_app: Litestar, sessions: dict[str, ASGIClient]
) -> None:
    """The same, anonymous and as every other role (most answers are refusals: 401/403)."""
    call_and_check(case, fuzz_app, sessions[role])


def test_api_workflows_answer_as_documented(
    fuzz_app: Litestar, sessions: dict[str, ASGIClient]
) -> None:
    """Chains of calls, each feeding the next (schemathesis infers the links: a listed or created
    meeting is then read, changed, its points invited...), as the secretariat."""
    session = sessions[SECRETARIAT]

    class Workflow(full_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"session": session, "app": fuzz_app}

        def validate_response(
            self, response: Any, case: schemathesis.Case, *args: Any, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_RUNS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def seed_postgres(url: str) -> DemoSeed:
    """Migrated, every unit, the demo's Thanh Hóa seed, and an admin."""
    seed = seed_postgres_demo(url)
    assert [seed.past_meeting_id, seed.upcoming_meeting_id] == SEEDED["meeting_id"]
    create_accounts(url, [("admin@confhub.example", "admin", {})], PASSWORD)
    return seed


@pytest.fixture(scope="module")
def postgres_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a PostgreSQL database of its own, and the admin's and the secretariat's
    signed-in sessions (`"app"` is the app)."""
    with postgres_database() as url:
        seed = seed_postgres(url)
        app = create_app(make_settings(url, tmp_path_factory.mktemp("fuzz-postgres")))
        logins = {
            ADMIN: ("admin@confhub.example", PASSWORD),
            SECRETARIAT: (seed.organizer_email, seed.organizer_password),
        }
        opened: dict[str, Any] = {"app": app}
        for role, (email, password) in logins.items():
            client = ASGIClient(app).__enter__()
            answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
            assert answer.status_code == 200, answer.text
            opened[role] = client
        points = opened[ADMIN].get("/api/v1/meetings/2/points", params={"limit": 500}).json()
        cam_tu = [p["point_id"] for p in points["items"] if p["unit_code"] in SEEDED["unit"]]
        assert cam_tu == SEEDED["point_id"], "the seed numbers its points differently now"
        yield opened
        shutdown_lifespans()


@pytest.mark.services
@pytest.mark.parametrize("role", (ADMIN, SECRETARIAT))
@postgres_schema.parametrize()
def test_api_never_fails_on_postgresql(
    case: schemathesis.Case, role: str, postgres_sessions: dict[str, Any]
) -> None:
    """Valid and invalid input, as the admin and as the secretariat, on PostgreSQL: every answer
    is a success or a 4xx refusal, never a server error."""
    app = postgres_sessions["app"]
    if case.path in SESSION_CHANGING:
        with ASGIClient(app) as own:
            response = case.call(session=own, app=app)
    else:
        response = case.call(session=postgres_sessions[role], app=app)
    case.validate_response(response, checks=[not_a_server_error])
