"""The wheel carries everything the app reads at run time: templates, static files, catalogs,
migrations, and the licence."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The file names inside a wheel built from the working tree."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--quiet",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("confhub-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as archive:
        return archive.namelist()


@pytest.mark.parametrize(
    "name",
    [
        "confhub/__init__.py",
        "confhub/templates/base.html",
        "confhub/templates/error.html",
        "confhub/templates/attendance/checkin.html",
        "confhub/static/css/confhub.css",
        "confhub/locales/vi/LC_MESSAGES/messages.po",
        "confhub/locales/en/LC_MESSAGES/messages.po",
        "confhub/db/migrations/env.py",
        "confhub/db/migrations/script.py.mako",
    ],
)
def test_wheel_holds(wheel_names: list[str], name: str) -> None:
    assert name in wheel_names


def test_wheel_holds_migration_versions(wheel_names: list[str]) -> None:
    versions = [
        name
        for name in wheel_names
        if name.startswith("confhub/db/migrations/versions/") and name.endswith(".py")
    ]
    assert versions, "no Alembic revisions in the wheel"


def test_wheel_holds_the_licence_and_the_console_script(wheel_names: list[str]) -> None:
    dist_info = {name.split("/", 1)[0] for name in wheel_names if ".dist-info/" in name}
    assert len(dist_info) == 1, dist_info
    (info,) = dist_info
    assert any(
        name.startswith(f"{info}/") and name.rsplit("/", 1)[-1] == "LICENSE" for name in wheel_names
    ), "no LICENSE in the dist-info"
    assert f"{info}/entry_points.txt" in wheel_names


def test_wheel_leaves_out_tests_and_caches(wheel_names: list[str]) -> None:
    assert not [name for name in wheel_names if name.startswith("tests/")]
    assert not [name for name in wheel_names if "__pycache__" in name or name.endswith(".pyc")]
