"""The app under test: its settings, and signing a test client in."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from confhub.accounts import passwords
from confhub.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# argon2id at its lowest cost (1 pass over 1 MiB: about 1 ms a hash instead of 130 ms): the
# suite signs in hundreds of times. Production's cost is tested in tests/unit/test_passwords.py.
TEST_PASSWORD_HASH_COST: dict[str, int] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}
# The same for a `confhub` process a test starts (tests.helpers.processes.clean_env).
TEST_PASSWORD_HASH_ENV = {
    f"CONFHUB_{name.upper()}": str(value) for name, value in TEST_PASSWORD_HASH_COST.items()
}


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for an app under test (keyword arguments override any field)."""
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        media_dir=tmp_path / "media",
        default_province=38,
        **TEST_PASSWORD_HASH_COST,
    )
    return settings.with_overrides(**overrides) if overrides else settings


def use_test_hash_cost() -> None:
    """Hash passwords at the suite's cost in this process (code without an app: seeding,
    account helpers), whatever cost the last app built here used."""
    passwords.use_hash_cost(Settings(database_url="sqlite://", **TEST_PASSWORD_HASH_COST))


def login(client: TestClient[Litestar], email: str, password: str) -> None:
    """Sign a test client in through the API; fails the test when it does not work."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
