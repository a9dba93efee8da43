"""`make audit`: pip-audit over the hash-locked requirements, with three outcomes kept apart.

pip-audit asks an advisory service (PyPI's, by default) about every pinned release. Run bare, it
passes when the service cannot be reached: each release it could not look up is "skipped" and the
run still ends in "No known vulnerabilities found". This wrapper first checks that the service
answers, then runs pip-audit once per lock file, reads its JSON report and decides:

exit 0  every locked package was audited and none has a known vulnerability with a fixed release
        (vulnerabilities without a fix, and those in the ignore file, are printed all the same);
exit 1  at least one package has a vulnerability with a fixed release: it is named with the fix;
exit 2  the audit itself failed: a bad ignore file, pip-audit stopped, or packages went unaudited
        although the service answered;
exit 3  the advisory service cannot be reached from this machine: nothing was checked. With
        `--if-unreachable warn` (CI without a known-good network) this prints the same warning and
        exits 0. See docs/security.md, "Dependencies".

The findings are pip-audit's; this script only runs it and sorts what it reports.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from packaging.version import Version

VULNERABLE, FAILED, UNREACHABLE = 1, 2, 3
NOT_AUDITED = "audit: NOT AUDITED"  # .ci/run looks for this line
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]+$")


class AuditError(Exception):
    """The audit could not be carried out (exit 2)."""


@dataclass
class Finding:
    """One vulnerability pip-audit reported for one locked release."""

    package: str
    version: str
    ids: list[str]
    fix_versions: list[str]
    description: str
    ignored_because: str | None = None

    def fixed_in(self) -> Version | None:
        """The first release after the locked one that fixes this, if any does."""
        later = [v for v in map(Version, self.fix_versions) if v > Version(self.version)]
        return min(later, default=None)

    def line(self) -> str:
        """The finding on one line: release, identifiers and the releases that fix it."""
        ordered = sorted(self.fix_versions, key=Version)
        fix = f"fixed in {', '.join(ordered)}" if ordered else "no fix yet"
        return f"{self.package} {self.version}  {' / '.join(self.ids)}  ({fix})"


@dataclass
class Report:
    """What the audit of every lock file found."""

    findings: list[Finding] = field(default_factory=list)
    audited: int = 0


def read_ignore_file(path: Path) -> dict[str, str]:
    """Vulnerability ids to ignore, each with its reason; an entry without a reason is an error."""
    ignored: dict[str, str] = {}
    if not path.exists():
        return ignored
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        vuln_id, _, reason = text.partition(" ")
        if not _ID.match(vuln_id) or not reason.strip():
            raise AuditError(
                f"{path}:{number}: expected 'VULNERABILITY-ID reason why it does not apply', "
                f"got {raw.strip()!r}"
            )
        ignored[vuln_id.upper()] = reason.strip()
    return ignored


def probe(service: str, timeout: float) -> str | None:
    """None when the advisory service answers a question about a release that surely exists
    (pip-audit's own); otherwise why not, in one line."""
    release = ("pip-audit", version("pip-audit"))
    if service == "pypi":
        url = f"https://pypi.org/pypi/{release[0]}/{release[1]}/json"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
    else:
        url = "https://api.osv.dev/v1/query"
        body = {"package": {"name": release[0], "ecosystem": "PyPI"}, "version": release[1]}
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(url, json.dumps(body).encode(), headers)  # noqa: S310
    try:
        # Fixed https:// addresses only, so S310's file:// concern does not arise.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            json.load(response)
    except urllib.error.HTTPError as error:
        return f"{url} answered HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, unknown host, TLS, timeout, not JSON
        return f"{url} could not be read: {error}"
    return None


def run_pip_audit(lock: Path, service: str, timeout: float) -> dict[str, Any]:
    """pip-audit's JSON report on one lock file (the pinned releases, no resolution)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.json"
        command = [
            *(sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--disable-pip"),
            *("--vulnerability-service", service, "--timeout", str(int(timeout))),
            *("--format", "json", "--desc", "on", "--aliases", "on", "--output", str(out)),
            *("--progress-spinner", "off"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        # pip-audit exits 1 both for "found vulnerabilities" (report written) and for its own
        # failures (no report): only the report tells them apart.
        if not out.exists() or not out.read_text(encoding="utf-8").strip():
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise AuditError(f"pip-audit stopped on {lock} (exit {done.returncode}):\n{tail}")
        report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return report


def read_findings(lock: Path, report: dict[str, Any], ignored: dict[str, str]) -> Report:
    """The findings of one pip-audit report; any skipped package makes the audit fail."""
    result = Report()
    skipped: list[str] = []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        result.audited += 1
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            reason = next((ignored[i.upper()] for i in ids if i.upper() in ignored), None)
            finding = Finding(
                dep["name"], dep["version"], ids, vuln["fix_versions"], vuln.get("description", "")
            )
            finding.ignored_because = reason
            result.findings.append(finding)
    if skipped:
        raise AuditError(
            f"{lock}: {len(skipped)} package(s) could not be audited although the service "
            "answered:\n  " + "\n  ".join(skipped)
        )
    return result


def print_findings(lock: Path, result: Report) -> None:
    """One lock file's outcome, every finding on its own line, ignored ones with their reason."""
    print(
        f"audit: {lock}: {result.audited} locked packages audited, "
        f"{len(result.findings)} known vulnerabilities"
    )
    for finding in result.findings:
        if finding.ignored_because is not None:
            label = "IGNORED"
        else:
            label = "FIX AVAILABLE" if finding.fixed_in() is not None else "NO FIX YET"
        print(f"  {label:<13} {finding.line()}")
        if finding.ignored_because is not None:
            print(f"                reason: {finding.ignored_because}")
        elif finding.description:
            print(f"                {finding.description[:200]}")


def fixes(findings: list[Finding]) -> dict[tuple[str, str], str]:
    """For each locked release with fixable, not ignored findings: the release that clears all."""
    needed: dict[tuple[str, str], Version] = {}
    for finding in findings:
        fix = finding.fixed_in()
        if finding.ignored_because is None and fix is not None:
            key = (finding.package, finding.version)
            needed[key] = max(needed.get(key, fix), fix)
    return {key: str(fix) for key, fix in needed.items()}


def verdict(findings: list[Finding], ignored: dict[str, str], ignore_file: Path) -> int:
    """The summary lines and the exit status of a complete audit."""
    seen = {i.upper() for f in findings for i in f.ids}
    for stale in sorted(set(ignored) - seen):
        print(f"audit: note: {ignore_file} lists {stale}, which no locked package has: remove it")
    fixable = [
        f"{name} {current} -> {fix}" for (name, current), fix in sorted(fixes(findings).items())
    ]
    unfixed = sorted(
        {
            f"{f.package} {f.version}"
            for f in findings
            if f.fixed_in() is None and f.ignored_because is None
        }
    )
    if unfixed:
        print(
            "audit: WARNING: known vulnerabilities without a fixed release (read each advisory; "
            f"mitigate, or record it in {ignore_file} with the reason): {', '.join(unfixed)}"
        )
    if fixable:
        print(
            f"audit: FAILED: {len(fixable)} package(s) have a fixed release: "
            f"{'; '.join(fixable)}. Raise the bound in pyproject.toml if needed and run "
            "`make lock`."
        )
        return VULNERABLE
    print("audit: passed: no locked package has a known vulnerability with a fixed release")
    return 0


def unreachable(reason: str, service: str, warn_only: bool) -> int:
    """The loud report of an audit that could not be made; exit 3, or 0 in warn mode."""
    name = "PyPI's advisory service" if service == "pypi" else f"the {service} advisory service"
    print(
        f"{NOT_AUDITED}: {name} cannot be used from this machine.\n"
        f"  {reason}\n"
        "  No locked package was checked: this run says nothing about known vulnerabilities.\n"
        "  Run `make audit` where the service answers (see docs/security.md, 'Dependencies').",
        flush=True,
    )
    return 0 if warn_only else UNREACHABLE


def main(argv: list[str] | None = None) -> int:
    """Audit every lock file named on the command line; see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("locks", nargs="+", type=Path, help="hash-locked requirements files")
    parser.add_argument("--ignore-file", type=Path, default=Path("requirements/audit-ignore.txt"))
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    parser.add_argument("--if-unreachable", choices=["fail", "warn"], default="fail")
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    try:
        ignored = read_ignore_file(args.ignore_file)
        reason = probe(args.service, args.timeout)
        if reason is not None:
            return unreachable(reason, args.service, args.if_unreachable == "warn")
        findings: list[Finding] = []
        for lock in args.locks:
            result = read_findings(lock, run_pip_audit(lock, args.service, args.timeout), ignored)
            print_findings(lock, result)
            findings.extend(result.findings)
    except AuditError as error:
        print(f"audit: ERROR: {error}", flush=True)
        return FAILED
    return verdict(findings, ignored, args.ignore_file)


if __name__ == "__main__":
    sys.exit(main())
