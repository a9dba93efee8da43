"""The application factory. Every piece of confhub is wired here, in one screen.

`create_app(settings)` returns a Litestar app; `ConfhubPlugin.on_app_init` registers the
controllers, the database plugin, sessions, CSRF, templates, static files, OpenAPI, the one
error handler, logging and metrics.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from confhub import __version__
from confhub.accounts import passwords
from confhub.accounts.controllers import AuthApiController, LoginPageController
from confhub.accounts.guards import needs_sign_in
from confhub.accounts.middleware import PrincipalMiddleware
from confhub.accounts.sessions import RotatingSessionBackend, RotatingSessionConfig
from confhub.attendance import fanout
from confhub.attendance import listeners as attendance_listeners
from confhub.attendance.controllers import AttendanceApiController
from confhub.attendance.desk.controllers import DeskApiController, DeskPagesController
from confhub.attendance.desk.writer import DeskWriter
from confhub.attendance.handshake import LiveHandshakeGate
from confhub.attendance.live import live_socket
from confhub.attendance.pages import LivePagesController
from confhub.attendance.runtime import LiveRuntime, build_live_runtime
from confhub.attendance.snapshots import SnapshotReads
from confhub.attendance.speaking.controllers import SpeakingApiController
from confhub.attendance.speaking.pages import SpeakingPagesController
from confhub.attendance.views import forget_shared_reads
from confhub.attendance.writer import AttendanceWriter
from confhub.calendar.controllers import CalendarFeedController, ProfilePageController
from confhub.calendar.links import with_calendar_links
from confhub.core.errors import exception_handlers
from confhub.core.i18n import SUPPORTED_LANGUAGES, LanguageMiddleware, translations
from confhub.core.request_session import DatabasePlugin
from confhub.core.templating import resource_dir, template_config
from confhub.db.engine import sqlalchemy_config
from confhub.meetings import link_cache
from confhub.meetings import listeners as meetings_listeners
from confhub.meetings.controllers import (
    DocumentApiController,
    InvitationApiController,
    MeetingApiController,
    PointContactsApiController,
)
from confhub.meetings.pages import PAGE_CONTROLLERS
from confhub.news import listeners as news_listeners
from confhub.news.controllers import ArticleApiController, MinutesApiController
from confhub.news.pages import NEWS_PAGE_CONTROLLERS
from confhub.news.preview import PreviewApiController
from confhub.notices import listeners as notices_listeners
from confhub.notices.controllers import NOTICE_CONTROLLERS
from confhub.notices.policy import SESSION_INFO_KEY as NOTICE_POLICY_KEY
from confhub.notices.policy import NoticePolicy
from confhub.notices.worker import NoticeWorker
from confhub.points import listeners as points_listeners
from confhub.settings import Settings, get_settings
from confhub.system import metrics
from confhub.system.api_docs import ApiIndexRenderPlugin
from confhub.system.controllers import HealthController
from confhub.system.observer import RequestObserver
from confhub.system.openapi import ApiErrorResponses
from confhub.system.ratelimit import HandshakeThrottle, LoginThrottle
from confhub.system.security_headers import SecurityHeaders
from confhub.units.controllers import UnitApiController

# Every domain's receivers of other domains' signals, connected by importing them
# (confhub.core.signals); confhub.cli connects the same ones.
SIGNAL_LISTENERS = (
    attendance_listeners,
    meetings_listeners,
    news_listeners,
    notices_listeners,
    points_listeners,
)

T = TypeVar("T")

if TYPE_CHECKING:
    from redis.asyncio import Redis

SESSION_COOKIE = "confhub_session"
# Redis on loopback or a LAN answers in milliseconds: a request waits this long at most for it
# (then 503), instead of hanging with a Redis that stopped answering.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_TIMEOUT = 5.0


def shared_redis(url: str) -> Redis:
    """The app's Redis client (sessions, sign-in counters, visits, /readyz). A command on a
    pooled connection that Redis dropped (it restarted) is tried once more on a new one, so the
    first requests after an outage do not fail too.

    redis-py is imported here, not by the module: a process without Redis never loads it."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    client: Redis = Redis.from_url(
        url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return client


class ConfhubPlugin(InitPluginProtocol):
    """Registers everything confhub is made of on the Litestar app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # What the app holds in memory while it serves, with how each was made: made afresh by
        # `reset_app_state`, in place (middleware and sessions hold them).
        self.renewable: list[tuple[Any, tuple[Any, ...]]] = []
        # The app's state as built, before handlers add their memories on first use.
        self.initial_state: dict[str, Any] = {}
        self.live: LiveRuntime | None = None

    def _renewable(self, made: T, *args: Any) -> T:
        self.renewable.append((made, args))
        return made

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Wire controllers, plugins, middleware and configuration."""
        settings = self.settings
        secret = settings.require_secret_key()
        live = self.live = build_live_runtime(
            settings.redis_url, settings.presence_sweep_seconds, settings.presence_every_seconds
        )
        # After a commit, through every session's info: its live deltas go out on the hub
        # (confhub.attendance.fanout), and the check-in links it changed are forgotten by the
        # process's memory of which link opens what (confhub.meetings.link_cache).
        fanout.install()
        link_cache.install()
        passwords.use_hash_cost(settings)
        checkin_links = self._renewable(link_cache.LinkCache())
        db_config = sqlalchemy_config(
            settings,
            session_info={
                fanout.PUBLISHER_KEY: live.hub.publish_committed,
                link_cache.SESSION_INFO_KEY: checkin_links,
                # Which channels the notices a change causes are recorded on.
                NOTICE_POLICY_KEY: NoticePolicy.of(settings),
            },
        )
        # Delivers the recorded notices (confhub.notices.outbox), in every serve process.
        notice_worker = self._renewable(
            NoticeWorker(settings, db_config.get_session), settings, db_config.get_session
        )
        live.db_config = db_config
        redis = shared_redis(settings.redis_url) if settings.redis_url else None
        handshake_throttle = self._renewable(HandshakeThrottle(settings, redis), settings, redis)
        session_store: Store
        if redis is not None:
            from litestar.stores.redis import RedisStore

            session_store = RedisStore(redis, namespace="confhub:sessions")
        else:
            session_store = self._renewable(MemoryStore())
        secure = settings.base_url.startswith("https://")
        session_config = RotatingSessionConfig(
            key=SESSION_COOKIE,
            max_age=settings.session_max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
            store="sessions",
            # Probes, metrics and static files neither need a session nor create one in Redis
            # (and /readyz must answer 503, not fail, when Redis is down).
            exclude=["^/healthz$", "^/readyz$", "^/metrics$", "^/static/"],
        )

        app_config.route_handlers.extend(
            [
                HealthController,
                AuthApiController,
                LoginPageController,
                UnitApiController,
                MeetingApiController,
                InvitationApiController,
                DocumentApiController,
                PointContactsApiController,
                CalendarFeedController,
                live_socket,
                AttendanceApiController,
                SpeakingApiController,
                DeskApiController,
                DeskPagesController,
                LivePagesController,
                SpeakingPagesController,
                ProfilePageController,
                *PAGE_CONTROLLERS,
                MinutesApiController,
                ArticleApiController,
                PreviewApiController,
                *NEWS_PAGE_CONTROLLERS,
                *NOTICE_CONTROLLERS,
                create_static_files_router(
                    path="/static", directories=[resource_dir("static")], name="static"
                ),
            ]
        )
        # Every /api/ operation documents its error answers (confhub.system.openapi), its 401s
        # where the accounts' guards refuse anonymous callers.
        app_config.plugins.extend(
            [
                DatabasePlugin(db_config),
                live.channels,
                ApiErrorResponses(needs_sign_in=needs_sign_in),
            ]
        )
        app_config.stores = {"sessions": session_store}
        app_config.middleware.extend(
            [
                LanguageMiddleware,
                # Live handshakes show a possible credential before the session is read; the live
                # route goes through this gate alone, which reads its session and principal
                # (confhub.attendance.handshake.LiveRoute).
                DefineMiddleware(
                    LiveHandshakeGate,
                    settings=settings,
                    throttle=handshake_throttle,
                    session_backend=RotatingSessionBackend(config=session_config),
                    db_config=db_config,
                ),
                session_config.middleware,
                DefineMiddleware(PrincipalMiddleware, db_config=db_config),
            ]
        )
        # The JSON API is protected by SameSite=Lax session cookies instead of a form token.
        app_config.csrf_config = CSRFConfig(
            secret=secret,
            cookie_name="confhub_csrf",
            cookie_samesite="lax",
            cookie_secure=secure,
            cookie_httponly=True,  # forms carry the token; no script reads the cookie
            header_name="x-csrftoken",
            exclude=["/api/"],
        )
        # Pages include calendar/_subscribe.html with links from the `calendar_links` global.
        app_config.template_config = with_calendar_links(template_config(settings), settings)
        app_config.openapi_config = OpenAPIConfig(
            title="confhub",
            version=__version__,
            description="Province-to-commune online conferences: the JSON API.",
            path="/schema",
            # A script-free page: the CDN-hosted viewers break the CSP (confhub.system.api_docs).
            render_plugins=[ApiIndexRenderPlugin()],
        )
        app_config.exception_handlers.update(exception_handlers)
        app_config.before_send.append(SecurityHeaders(settings))
        app_config.state = State(
            {
                "settings": settings,
                "db_config": db_config,
                "redis": redis,
                "live_hub": live.hub,
                "presence": live.presence,
                # Failed sign-ins per login name and per address (Redis when configured).
                "login_throttle": self._renewable(LoginThrottle(settings, redis), settings, redis),
                # Live-channel handshakes per address, and the links they open.
                "handshake_throttle": handshake_throttle,
                "checkin_links": checkin_links,
                "attendance_writer": self._renewable(AttendanceWriter(db_config), db_config),
                # Incidents and announcements, in the same per-meeting writer queue.
                "desk_writer": self._renewable(DeskWriter(db_config), db_config),
                "live_snapshots": self._renewable(SnapshotReads(db_config), db_config),
            }
        )
        app_config.on_startup.append(live.start)
        app_config.on_shutdown.append(live.stop)
        app_config.on_startup.append(notice_worker.start)
        app_config.on_shutdown.insert(0, notice_worker.stop)
        app_config.on_startup.append(lambda: settings.media_dir.mkdir(parents=True, exist_ok=True))
        app_config.on_startup.append(lambda: metrics.instrument_pool(db_config.get_engine()))
        loop_watch = metrics.LoopWatch()
        app_config.on_startup.append(loop_watch.start)
        app_config.on_shutdown.append(loop_watch.stop)
        if redis is not None:
            app_config.on_shutdown.append(redis.aclose)
        app_config.debug = settings.debug
        # Litestar's logger goes through the process's handlers (JSON or text, masked, with the
        # request id: see confhub.system.logs); the error handler logs each 5xx once.
        app_config.logging_config = LoggingConfig(
            configure_root_logger=False,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
            log_exceptions="never",
        )
        return app_config


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (as it was found afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the confhub application (settings from the environment when not given)."""
    settings = settings or get_settings()
    # The message catalogs, compiled once a process (cached), before the app: compiling the
    # Vietnamese one takes ~1.8 MiB for a moment and keeps 0.3 MiB; freed before the ~260
    # handlers are registered, that memory is reused by them instead of staying in the
    # process's size after its first page (issue 20, docs/performance.md).
    for language in SUPPORTED_LANGUAGES:
        translations(language)
    # Registering the ~260 handlers allocates hundreds of thousands of objects that live on; the
    # collector would spend 15-20 % of the build going through them again and again
    # (docs/performance.md, "The test suite": the suite builds an app per test).
    with _collector_paused():
        app = Litestar(
            plugins=[ConfhubPlugin(settings)],
            # Request bodies past the upload limit are refused while streaming (413), not after.
            # Given here: Litestar 2 takes the app's limit from this argument only (10,000,000
            # by default), never from the AppConfig a plugin edits.
            request_max_body_size=settings.max_request_body_bytes,
        )
    # Around routing itself, so unmatched paths too get a request id, a log line and metrics.
    app.asgi_handler = RequestObserver(app.asgi_handler)
    app.plugins.get(ConfhubPlugin).initial_state = dict(app.state)
    return app


def reset_app_state(app: Litestar) -> None:
    """Make a stopped app (its lifespan over) forget everything it learned while serving, as
    if just built: sign-in and handshake counts, sessions kept in memory, check-in links,
    the writers' and snapshot readers' queues, the live rooms, subscribers and presence, what
    handlers added to its state on first use (the calendar's version memory, the preview
    throttle, the visit counter), and the attendance views' shared reads.

    For the test suite, which reuses one app (its handlers registered once: most of what an app
    costs to build) over a fresh database at the same URL for each test; production never
    calls it. Memories kept in Redis are not touched."""
    plugin = app.plugins.get(ConfhubPlugin)
    for made, args in plugin.renewable:
        type(made).__init__(made, *args)
    if plugin.live is not None:
        plugin.live.forget()
    app.state.clear()
    app.state.update(plugin.initial_state)
    forget_shared_reads()
    passwords.use_hash_cost(plugin.settings)


def create_app_from_env() -> Any:
    """Factory for `uvicorn --factory` worker processes: settings from the environment."""
    from confhub.system.serving import prepare_process

    settings = get_settings()
    app = create_app(settings)
    prepare_process(settings)
    return app
