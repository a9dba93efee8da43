"""`make audit` (requirements/audit.py over pip-audit): a locked release with a fixed
vulnerability fails the audit and is named with its fix, and an advisory service that cannot be
used, or packages it did not audit, are never reported as a clean audit.

The test against a really vulnerable release needs PyPI's advisory service; it skips, saying why,
where the service cannot be used, and fails instead with `CONFHUB_REQUIRE_AUDIT=1` (the same
switch that makes `.ci/run` fail on an unaudited run).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "requirements" / "audit.py"

# Jinja2 2.10 has CVE-2019-10906 (sandbox escape), fixed in 2.10.1, and later advisories too.
VULNERABLE_LOCK = """\
jinja2==2.10 \\
    --hash=sha256:74c935a1b8bb9a3947c50a54766a969d4846290e1e788ea44c1392163723c3bd \\
    --hash=sha256:f84be1bb0040caca4cea721fcbbbbd61f9be9464ca236387158b0feea01914a4
"""
# A name nobody has published: the service answers "not found", pip-audit skips it.
UNKNOWN_LOCK = """\
confhub-audit-test-not-on-pypi==1.0 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
"""


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    """requirements/audit.py, imported from its path (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("confhub_requirements_audit", AUDIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dead_proxy_env() -> Iterator[dict[str, str]]:
    """An environment whose every https request goes through a proxy nobody listens on: the
    advisory service is unreachable whatever this machine's network is."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    proxy = f"http://127.0.0.1:{free_port()}"
    env.update(HTTPS_PROXY=proxy, https_proxy=proxy, HTTP_PROXY=proxy, http_proxy=proxy)
    yield env


def run_audit(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit status and combined output of requirements/audit.py run as a program."""
    done = subprocess.run(
        [sys.executable, str(AUDIT), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_make_audit_fails_when_the_advisory_service_cannot_be_reached(
    dead_proxy_env: dict[str, str],
) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -o: never rebuild .venv from inside a test, even if the lock is newer than its stamp.
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.confhub-installed", "audit"],
        cwd=ROOT,
        env=dead_proxy_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "audit: NOT AUDITED" in output
    assert "No locked package was checked" in output
    assert "passed" not in output


def test_warn_mode_passes_but_still_says_nothing_was_audited(
    dead_proxy_env: dict[str, str],
) -> None:
    status, output = run_audit(
        "--if-unreachable", "warn", ROOT / "requirements" / "prod.txt", env=dead_proxy_env
    )
    assert status == 0, output
    assert "audit: NOT AUDITED" in output
    assert "passed" not in output


def test_packages_left_unaudited_fail_even_when_the_service_answers(
    audit: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Bare pip-audit reports "No known vulnerabilities found" (exit 0) after skipping every
    # package it could not look up; here the skip must fail the audit.
    monkeypatch.setattr(audit, "probe", lambda service, timeout: None)
    lock = tmp_path / "lock.txt"
    lock.write_text(UNKNOWN_LOCK)
    status = audit.main(["--ignore-file", str(tmp_path / "none.txt"), str(lock)])
    output = capsys.readouterr().out
    assert status == audit.FAILED, output
    assert "audit: ERROR" in output
    assert "passed" not in output


def test_an_ignore_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    ignore = tmp_path / "audit-ignore.txt"
    ignore.write_text(
        "# comment\nPYSEC-2019-217 not reachable: we never render user templates\nCVE-2024-22195\n"
    )
    status, output = run_audit("--ignore-file", ignore, ROOT / "requirements" / "prod.txt")
    assert status == 2, output
    assert f"{ignore}:3" in output
    assert "CVE-2024-22195" in output


def report(*vulns: dict[str, Any]) -> dict[str, Any]:
    """A report in pip-audit's JSON format: one audited release with these vulnerabilities."""
    return {
        "dependencies": [
            {"name": "somepkg", "version": "1.0", "vulns": list(vulns)},
            {"name": "clean", "version": "2.0", "vulns": []},
        ],
        "fixes": [],
    }


def vuln(vuln_id: str, alias: str, *fixes: str) -> dict[str, Any]:
    """One vulnerability as pip-audit's JSON report writes it."""
    return {"id": vuln_id, "fix_versions": list(fixes), "aliases": [alias], "description": "bad"}


def test_a_vulnerability_with_a_fix_fails_and_names_the_fixed_release(
    audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    found = audit.read_findings(
        Path("lock.txt"),
        report(vuln("PYSEC-1", "CVE-1", "1.2", "1.1"), vuln("GHSA-2", "CVE-2")),
        {},
    )
    audit.print_findings(Path("lock.txt"), found)
    status = audit.verdict(found.findings, {}, Path("ignore.txt"))
    output = capsys.readouterr().out
    assert status == audit.VULNERABLE
    assert found.audited == 2
    assert "FIX AVAILABLE somepkg 1.0  PYSEC-1 / CVE-1  (fixed in 1.1, 1.2)" in output
    assert "NO FIX YET    somepkg 1.0  GHSA-2 / CVE-2  (no fix yet)" in output
    assert "FAILED: 1 package(s) have a fixed release: somepkg 1.0 -> 1.1" in output


def test_ignored_and_unfixed_vulnerabilities_pass_but_are_printed(
    audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    ignored = {
        "CVE-1": "only reachable through the sandbox, which confhub does not use",
        "GHSA-OLD": "stale",
    }
    found = audit.read_findings(
        Path("lock.txt"), report(vuln("PYSEC-1", "CVE-1", "1.2"), vuln("GHSA-2", "CVE-2")), ignored
    )
    audit.print_findings(Path("lock.txt"), found)
    status = audit.verdict(found.findings, ignored, Path("ignore.txt"))
    output = capsys.readouterr().out
    assert status == 0, output
    assert "IGNORED       somepkg 1.0  PYSEC-1" in output
    assert "reason: only reachable through the sandbox" in output
    assert "WARNING: known vulnerabilities without a fixed release" in output
    assert "lists GHSA-OLD, which no locked package has" in output


def test_a_locked_release_with_a_known_fixed_vulnerability_fails_the_audit(
    audit: ModuleType, tmp_path: Path
) -> None:
    reason = audit.probe("pypi", 15.0)
    if reason is not None:
        message = f"PyPI's advisory service cannot be used from this machine: {reason}"
        if os.environ.get("CONFHUB_REQUIRE_AUDIT") == "1":
            pytest.fail(f"{message} (CONFHUB_REQUIRE_AUDIT=1 forbids skipping)")
        pytest.skip(message)
    lock = tmp_path / "lock.txt"
    lock.write_text(VULNERABLE_LOCK)
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("CVE-2019-10906 test entry: an ignored finding is still printed\n")
    status, output = run_audit("--ignore-file", ignore, lock)
    assert status == 1, output
    assert "IGNORED       jinja2 2.10" in output
    assert "reason: test entry: an ignored finding is still printed" in output
    assert "FIX AVAILABLE jinja2 2.10" in output
    assert "FAILED: 1 package(s) have a fixed release: jinja2 2.10 -> " in output
