"""Password hashes: argon2id at RFC 9106's low-memory cost unless `CONFHUB_PASSWORD_HASH_*` says
otherwise (the suite lowers it), and a hash made at any cost still verifies at another."""

from __future__ import annotations

import pytest

from confhub.accounts import passwords
from confhub.settings import Settings, SettingsError
from tests.helpers.apps import use_test_hash_cost


def _cost_of(password_hash: str) -> str:
    # $argon2id$v=19$m=65536,t=3,p=4$salt$digest
    return password_hash.split("$")[3]


async def test_production_hashes_cost_64_mib_3_passes_4_lanes() -> None:
    passwords.use_hash_cost(Settings.from_env({}))
    try:
        stored = await passwords.hash_password("a long enough password")
    finally:
        use_test_hash_cost()
    assert stored.startswith("$argon2id$v=19$")
    assert _cost_of(stored) == "m=65536,t=3,p=4"


async def test_the_cost_is_taken_from_the_environment_and_old_hashes_still_verify() -> None:
    passwords.use_hash_cost(Settings.from_env({}))
    try:
        old = await passwords.hash_password("mật khẩu cũ đủ dài")
    finally:
        use_test_hash_cost()
    settings = Settings.from_env(
        {
            "CONFHUB_PASSWORD_HASH_TIME_COST": "2",
            "CONFHUB_PASSWORD_HASH_MEMORY_KIB": "2048",
            "CONFHUB_PASSWORD_HASH_PARALLELISM": "2",
        }
    )
    passwords.use_hash_cost(settings)
    try:
        new = await passwords.hash_password("mật khẩu mới đủ dài")
        assert _cost_of(new) == "m=2048,t=2,p=2"
        assert await passwords.verify_password(old, "mật khẩu cũ đủ dài")
        assert await passwords.verify_password(new, "mật khẩu mới đủ dài")
        assert not await passwords.verify_password(old, "mật khẩu mới đủ dài")
        assert not await passwords.verify_password(None, "mật khẩu mới đủ dài")
    finally:
        use_test_hash_cost()


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"CONFHUB_PASSWORD_HASH_TIME_COST": "0"}, "CONFHUB_PASSWORD_HASH_TIME_COST"),
        ({"CONFHUB_PASSWORD_HASH_MEMORY_KIB": "lots"}, "CONFHUB_PASSWORD_HASH_MEMORY_KIB"),
        ({"CONFHUB_PASSWORD_HASH_PARALLELISM": "-1"}, "CONFHUB_PASSWORD_HASH_PARALLELISM"),
        (  # argon2 needs 8 KiB per lane
            {"CONFHUB_PASSWORD_HASH_MEMORY_KIB": "31", "CONFHUB_PASSWORD_HASH_PARALLELISM": "4"},
            "CONFHUB_PASSWORD_HASH_MEMORY_KIB",
        ),
    ],
)
def test_a_bad_cost_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith(f"{variable}:")
    assert "\n" not in str(refused.value)
