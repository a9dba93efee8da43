"""Jinja2 set-up: where templates live (repository or installed wheel) and their shared helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from confhub.core import dateinput, i18n, timefmt
from confhub.core.messages import Renderable
from confhub.settings import Settings

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """`templates` or `static`: inside the installed package, else at the repository's top."""
    packaged = _PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent.parent / name


def _language(context: Context) -> str:
    request = context.get("request")
    return i18n.language_of(request) if request is not None else i18n.DEFAULT_LANGUAGE


@pass_context
def _translate(context: Context, message: str, **values: Any) -> str:
    return i18n.gettext(_language(context), message, **values)


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    """The template engine with `_()` translation and time/number filters installed.

    Filters: `meeting_time` ("14:00, thứ Tư, 10/09/2025"), `meeting_day` ("thứ Tư, 10/09/2025"),
    `clock` ("14:00"), `input_datetime` (a form's "10/09/2025 14:00"), `iso_day` (a link's
    "2025-09-10"), `number` ("2.050"),
    `say` (a :class:`~confhub.core.messages.Message` in the page's language).
    """

    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.globals["_"] = _translate
        env.globals["settings"] = settings
        env.globals["supported_languages"] = i18n.SUPPORTED_LANGUAGES

        @pass_context
        def meeting_time(context: Context, value: Any, timezone: str | None = None) -> str:
            return timefmt.format_meeting_time(
                value, timezone or settings.timezone, _language(context)
            )

        @pass_context
        def number(context: Context, value: int) -> str:
            return timefmt.format_number(value, _language(context))

        @pass_context
        def say(context: Context, message: Renderable) -> str:
            return message.render(_language(context))

        @pass_context
        def current_language(context: Context) -> str:
            return _language(context)

        @pass_context
        def meeting_day(context: Context, value: Any, timezone: str | None = None) -> str:
            return timefmt.format_day(value, timezone or settings.timezone, _language(context))

        def clock(value: Any, timezone: str | None = None) -> str:
            return timefmt.format_clock(value, timezone or settings.timezone)

        def input_datetime(value: Any, timezone: str | None = None) -> str:
            return timefmt.format_input_datetime(value, timezone or settings.timezone)

        env.filters["meeting_time"] = meeting_time
        env.filters["meeting_day"] = meeting_day
        env.filters["clock"] = clock

        def iso_day(value: Any, timezone: str | None = None) -> str:
            return timefmt.format_iso_day(value, timezone or settings.timezone)

        env.filters["input_datetime"] = input_datetime
        env.filters["input_day"] = dateinput.format_day
        # The patterns of the forms' typed days and times (confhub.core.dateinput).
        env.globals["moment_pattern"] = dateinput.MOMENT_PATTERN
        env.globals["day_pattern"] = dateinput.DAY_PATTERN
        env.globals["clock_pattern"] = dateinput.CLOCK_PATTERN
        env.filters["iso_day"] = iso_day
        env.filters["number"] = number
        env.filters["say"] = say
        env.globals["current_language"] = current_language

    return TemplateConfig(
        directory=resource_dir("templates"),
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )
