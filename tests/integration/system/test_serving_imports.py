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
# (Alembic, rich).
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
)

PROBE = """
import json, sys
from confhub.app import create_app
from confhub.settings import Settings
create_app(Settings.from_env())
print(json.dumps(sorted(name for name in sys.modules if "." not in name)))
"""


def test_building_the_app_imports_no_library_of_first_use_only(tmp_path: Path) -> None:
    env = {
        **os.environ,
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
