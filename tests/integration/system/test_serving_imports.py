"""A serving process imports what serving needs (issue 20: every process of a deployment holds
what it imported for its whole life); the libraries of rarer work come with their first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# Each imported by the code that uses it, on first use: feeds and e-mailed invitations
# (icalendar), Markdown rendering (markdown-it, nh3), QR codes (segno), official documents
# (python-docx, WeasyPrint), spreadsheets (openpyxl), photos (Pillow), migrations and commands
# (Alembic, rich). PyYAML and pdb, which Litestar imports for a YAML schema confhub does not
# serve and for debugging, are deferred until used (confhub.core.deferred).
FIRST_USE_ONLY = (
    "icalendar",
    "dateutil",
    "markdown_it",
    "nh3",
    "segno",
    "docx",
    "weasyprint",
    "openpyxl",
    "PIL",
    "alembic",
    "rich",
    "yaml",
    "pdb",
)
# The drivers of PostgreSQL and Redis, imported only by a process configured with them.
CONFIGURED_ONLY = ("asyncpg", "redis")

PROBE = """
import json, sys
from confhub.app import create_app
from confhub.settings import Settings
create_app(Settings.from_env())
from confhub.core.deferred import is_loaded
print(json.dumps(sorted(name for name in list(sys.modules) if "." not in name and is_loaded(name))))
"""


def test_building_the_app_imports_no_library_of_first_use_only(tmp_path: Path) -> None:
    env = {
        **{name: value for name, value in os.environ.items() if name != "CONFHUB_REDIS_URL"},
        "CONFHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'confhub.sqlite3'}",
        "CONFHUB_SECRET_KEY": "k" * 40,
        "CONFHUB_MEDIA_DIR": str(tmp_path / "media"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert "litestar" in imported  # the probe saw the app's imports
    assert imported.isdisjoint(FIRST_USE_ONLY), sorted(imported & set(FIRST_USE_ONLY))
    # On SQLite without Redis (the probe's settings), neither driver is loaded.
    assert imported.isdisjoint(CONFIGURED_ONLY), sorted(imported & set(CONFIGURED_ONLY))


DEFERRED_PROBE = """
import sys
import confhub
import yaml
assert type(sys.modules["yaml"]).__name__ == "DeferredModule", "deferred"
assert "yaml.cyaml" not in sys.modules
assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}  # the first use imports it
from yaml import safe_dump
assert safe_dump({"b": 3}) == "b: 3\\n"
assert "yaml.cyaml" in sys.modules
import pdb
assert pdb.Pdb.__module__ == "pdb"
print("ok")
"""


def test_a_deferred_module_works_when_first_used() -> None:
    done = subprocess.run(
        [sys.executable, "-c", DEFERRED_PROBE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
