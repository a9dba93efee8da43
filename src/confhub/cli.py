"""The `confhub` command: demo, serve, database migrations, unit loading and accounts.

Every subcommand reads the same settings (`CONFHUB_*`); a bad value stops it with one line
naming the variable and exit code 2.
"""

from __future__ import annotations

import asyncio
import importlib
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from confhub.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from confhub.core.people import PersonalData

T = TypeVar("T")

SIGNAL_LISTENER_DOMAINS = ("attendance", "meetings", "news", "notices", "points")

# The database layer, the models and the app are imported by the commands that use them, not
# here: `confhub --help`, a refused setting and the `serve` supervisor then start in a fraction
# of the second (and the megabytes) the models and Litestar cost.


def _connect_signal_listeners() -> None:
    """Connect every domain's receivers of other domains' signals (confhub.core.signals) by
    importing them: the commands send the app's signals too (`units load`, `demo`)."""
    for domain in SIGNAL_LISTENER_DOMAINS:
        importlib.import_module(f"confhub.{domain}.listeners")


class _OneLineError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"confhub: {self.format_message()}", err=True)


def _fail(message: str) -> None:
    raise _OneLineError(message)


async def _with_session(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from confhub.db.engine import create_engine, session_maker

    _connect_signal_listeners()
    engine = create_engine(database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def _migrate() -> Any:
    from confhub.db import migrate

    return migrate


def _run(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return asyncio.run(_with_session(database_url, work))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="confhub")
def main() -> None:
    """confhub: schedule province-to-commune online conferences, take the roll call live,
    and publish the minutes as news.

    Configuration comes from CONFHUB_* environment variables (see the README).
    Start with `confhub demo`.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--db",
    "db_path",
    default="confhub-demo.sqlite3",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to build afresh (any existing file there is replaced).",
)
def demo(host: str, port: int, db_path: Path) -> None:
    """Build a fresh SQLite database with every unit, seed Thanh Hóa's conferences, and serve.

    Prints the organizer's login and the Xã Cẩm Tú check-in link before serving.
    """
    from confhub.demo import seed_thanh_hoa
    from confhub.units.loader import load_units

    db_path = db_path.resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    base_url = f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}"  # noqa: S104
    try:
        settings = Settings.from_env(
            {
                "CONFHUB_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
                "CONFHUB_SECRET_KEY": secrets.token_urlsafe(48),
                "CONFHUB_BASE_URL": base_url,
                "CONFHUB_DEFAULT_PROVINCE": "38",
                "CONFHUB_MEDIA_DIR": str(db_path.parent / "demo-media"),
            }
        )
    except SettingsError as exc:
        _fail(str(exc))
    click.echo(f"Building the demo database at {db_path} …")
    _migrate().upgrade(settings.database_url)

    async def build(session: AsyncSession) -> Any:
        report = await load_units(session)
        click.echo(f"Loaded {report.provinces} provinces and {report.units} units.")
        return await seed_thanh_hoa(session)

    seed = _run(settings.database_url, build)
    click.echo(f"Organizer login: {seed.organizer_email} {seed.organizer_password}")
    click.echo(f"Check-in link (Xã Cẩm Tú): {settings.base_url}/checkin/{seed.cam_tu_token}")
    click.echo(f"Chair login (Xã Cẩm Tú): {seed.chair_email} {seed.chair_password}")
    click.echo(f"Serving on {settings.base_url} (Ctrl+C stops)", err=False)
    sys.stdout.flush()
    _serve(settings, host=host, port=port, workers=1)


def _serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve in this process, or in `workers` uvicorn worker processes sharing one port."""
    import uvicorn

    from confhub.system.serving import prepare_process, shared_metrics_dir, uvicorn_options

    options = uvicorn_options(settings, host=host, port=port)
    if workers > 1:
        # Each worker builds its app from the environment, and writes its metrics where every
        # worker's /metrics can sum them.
        with shared_metrics_dir():
            uvicorn.run("confhub.app:create_app_from_env", factory=True, workers=workers, **options)
        return
    from confhub.app import create_app

    app = create_app(settings)
    prepare_process(settings)
    uvicorn.run(app, **options)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (share live updates through CONFHUB_REDIS_URL).",
)
@click.option("--no-migrate", is_flag=True, help="Do not run database migrations first.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Serve confhub with the configuration from the environment (migrates first).

    SIGTERM stops it gracefully: no new connections, websockets closed with code 1012 so live
    clients reconnect to another process, in-flight requests finished (for up to
    CONFHUB_SHUTDOWN_TIMEOUT seconds).
    """
    settings = _settings_or_fail()
    try:
        settings.require_secret_key()
    except SettingsError as exc:
        _fail(str(exc))
    if workers > 1 and not settings.redis_url:
        _fail(
            f"CONFHUB_REDIS_URL: required with --workers {workers}; sessions and live updates "
            "are shared between processes through Redis"
        )
    if not no_migrate:
        _migrate().upgrade(settings.database_url)
    _serve(settings, host=host, port=port, workers=workers)


def _settings_or_fail() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail raises


@main.group()
def db() -> None:
    """Database migrations (Alembic), backups and restores."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    _migrate().upgrade(_settings_or_fail().database_url, revision)
    click.echo(f"Database upgraded to {revision}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (`base` removes every table)."""
    _migrate().downgrade(_settings_or_fail().database_url, revision)
    click.echo(f"Database downgraded to {revision}.")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def db_backup(path: Path, force: bool) -> None:
    """Copy the whole database to the file PATH, while confhub keeps serving.

    SQLite: its online backup API. PostgreSQL: pg_dump's custom format (restore it with
    `confhub db restore` or pg_restore).
    """
    from confhub.system.backup import BackupError, backup

    try:
        report = backup(_settings_or_fail().database_url, path, force=force)
    except BackupError as exc:
        _fail(str(exc))
        return
    click.echo(f"Backed up to {report.path} ({report.size} bytes, revision {report.revision}).")


@db.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds tables.")
def db_restore(path: Path, force: bool) -> None:
    """Replace the database with the backup in PATH (stop confhub first).

    The backup is checked first (integrity, a known migration revision); a database that
    already holds tables is only replaced with --force.
    """
    from confhub.system.backup import BackupError, restore

    try:
        report = restore(_settings_or_fail().database_url, path, force=force)
    except BackupError as exc:
        _fail(str(exc))
        return
    click.echo(f"Restored {report.path} (revision {report.revision}).")
    if report.needs_upgrade:
        click.echo(f"The backup predates revision {report.head}: run `confhub db upgrade`.")


@main.group()
def units() -> None:
    """Administrative units (provinces, communes, wards, special zones)."""


@units.command("load")
@click.option("--province", type=int, default=None, help="Only this province's code, e.g. 38.")
def units_load(province: int | None) -> None:
    """Load or refresh the official units and their default connection points (idempotent)."""
    from confhub.core.errors import ConfhubError
    from confhub.units.loader import load_units

    settings = _settings_or_fail()
    try:
        report = _run(settings.database_url, lambda s: load_units(s, province))
    except ConfhubError as exc:
        _fail(exc.detail)
        return
    click.echo(
        f"{report.provinces} provinces, {report.units} units from vietnam-provinces "
        f"{report.package_version}: {report.created} created, {report.updated} updated, "
        f"{report.points_created} connection points created."
    )


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "secretariat", "chair", "viewer", "editor"]),
)
@click.option("--province", type=int, default=None, help="Province code (secretariat, viewer).")
@click.option("--unit", type=int, default=None, help="Unit code (chair, editor).")
@click.option("--name", "full_name", default="", help="The person's full name.")
def users_create(
    email: str, role: str, province: int | None, unit: int | None, full_name: str
) -> None:
    """Create an account. The password is read from standard input (one line)."""
    from confhub.accounts.services import UserService
    from confhub.core.errors import ConfhubError

    settings = _settings_or_fail()
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")

    async def create(session: AsyncSession) -> int:
        user = await UserService(session=session).create_user(
            email=email,
            password=password,
            role=role,
            province_code=province,
            unit_code=unit,
            full_name=full_name,
        )
        return user.id

    try:
        user_id = _run(settings.database_url, create)
    except ConfhubError as exc:
        _fail(exc.detail)
        return
    click.echo(f"Created {role} {email.strip().lower()} (id {user_id}).")


@main.group()
def people() -> None:
    """One person's data (Law on Personal Data Protection): export it, or erase it.

    A person is found by any of --phone, --name (exact, any case) and --user (e-mail or account
    id); give every one you know, each option as often as needed.
    """


def _person_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option("--user", "users", multiple=True, help="Account e-mail or id."),
        click.option("--name", "names", multiple=True, help="Full name, e.g. a chair's."),
        click.option("--phone", "phones", multiple=True, help="Phone number, any spacing."),
    ):
        command = option(command)
    return command


def _people_sections() -> tuple[PersonalData[Any], ...]:
    """Each domain's answer for a person's data (confhub.core.people), lowest layer first:
    a section may read what those before it found."""
    from confhub.accounts.personal_data import AccountsData
    from confhub.attendance.personal_data import AttendanceData
    from confhub.meetings.personal_data import MeetingsData
    from confhub.news.personal_data import NewsData
    from confhub.points.personal_data import PointsData

    # The directory after the accounts: its log names them by e-mail and account id.
    return (AccountsData(), PointsData(), MeetingsData(), AttendanceData(), NewsData())


def _person_query(phones: tuple[str, ...], names: tuple[str, ...], users: tuple[str, ...]) -> Any:
    from confhub.core.people import PersonQuery

    try:
        return PersonQuery(phones=phones, names=names, users=users)
    except ValueError as exc:
        _fail(str(exc))


@people.command("export")
@_person_options
def people_export(phones: tuple[str, ...], names: tuple[str, ...], users: tuple[str, ...]) -> None:
    """Print as JSON everything stored about the person: accounts, chair assignments with their
    meetings, check-ins, audit entries, and the texts that mention them."""
    import json

    from confhub.core.people import export, find_person

    query = _person_query(phones, names, users)

    async def work(session: AsyncSession) -> dict[str, Any]:
        return export(await find_person(session, query, _people_sections()))

    document = _run(_settings_or_fail().database_url, work)
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@people.command("erase")
@_person_options
@click.option("--dry-run", is_flag=True, help="Only say what would change.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def people_erase(
    phones: tuple[str, ...],
    names: tuple[str, ...],
    users: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Erase the person's data: names become "(đã xoá)", phones are removed, accounts deleted;
    roll-call numbers stay. Published articles naming them are listed, not changed."""
    from confhub.core.people import erase, find_person

    query = _person_query(phones, names, users)
    database_url = _settings_or_fail().database_url

    async def survey(session: AsyncSession) -> Any:
        return await find_person(session, query, _people_sections())

    findings = _run(database_url, survey)
    counts = findings.counts()
    for line in _erasure_lines(findings, counts):
        click.echo(line)
    if not any(number for key, number in counts.items() if key != "meetings"):
        click.echo("Nothing to erase.")
        return
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    if not yes:
        click.confirm("Erase this person's data?", abort=True)

    async def work(session: AsyncSession) -> Any:
        return await erase(session, await find_person(session, query, _people_sections()))

    _run(database_url, work)
    click.echo("Erased. Each meeting concerned records the erasure in its log.")


def _erasure_lines(findings: Any, counts: dict[str, int]) -> list[str]:
    labels = {
        "chair_assignments": "chair assignments: name → (đã xoá), phone and position removed",
        "accounts_deleted": "accounts deleted",
        "checkins_pseudonymised": "check-ins pseudonymised (status and delegates kept)",
        "audit_entries_pseudonymised": "audit entries pseudonymised",
        "minutes_revisions_pseudonymised": "minutes revisions' author pseudonymised",
        "notes_scrubbed": "roll-call notes and live events scrubbed",
        "labels_pseudonymised": "minutes and articles' editor labels pseudonymised",
        "meetings": "meetings concerned (each gets an audit entry of the erasure)",
    }
    lines = [f"{counts[key]:>5}  {text}" for key, text in labels.items()]
    published = findings.publications
    if published:
        lines.append(
            f"The person appears in {len(published)} published article(s); their text is the "
            "province's publication and is left as it is (an editor decides):"
        )
        lines += [f"       {m.url}  {m.title}" for m in published]
    else:
        lines.append("The person appears in no published article.")
    others = [m for m in findings.mentions if m.url is None]
    if others:
        lines.append(f"Other texts that name them, left as they are ({len(others)}):")
        lines += [f"       {m.kind} {m.id} ({', '.join(m.fields)})" for m in others]
    return lines
