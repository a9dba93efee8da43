"""Jinja2 set-up: where templates live (repository or installed wheel) and their shared helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, Environment, pass_context
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from jinja2.utils import _PassArg
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


class CompiledTemplates(BytecodeCache):
    """The process's compiled templates, shared by every app it builds (the suite builds
    hundreds; a served process, one). Each app has its own Jinja environment (its settings are
    among the globals), and Jinja compiles a template again for each environment: 70 % of the
    processor time of a first page. The code of a template depends only on its source (Jinja's
    checksum) and on what the compiler reads from the environment, which the key holds: its
    syntax and options, and the filters and tests that constant folding may call at compile
    time (all but those taking the render context: confhub's own all do). An environment that
    differs in any of these gets code of its own."""

    def __init__(self) -> None:
        self._code: dict[tuple[Any, str], tuple[str, Any]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give the bucket the code compiled for the same template, source and environment."""
        found = self._code.get((compiler_inputs(bucket.environment), bucket.key))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled (code objects are immutable)."""
        key = (compiler_inputs(bucket.environment), bucket.key)
        self._code[key] = (bucket.checksum, bucket.code)


def _foldable(functions: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(
        sorted(
            (
                (name, function)
                for name, function in functions.items()
                if _PassArg.from_obj(function) is not _PassArg.context
            ),
            key=lambda item: item[0],
        )
    )


def compiler_inputs(env: Environment) -> tuple[Any, ...]:
    """What Jinja's lexer, parser, optimizer and code generator read from an environment. The
    functions themselves are in the key (kept alive by it), so a new one never takes the
    identity of one gone."""
    return (
        type(env),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.autoescape,
        env.finalize,
        env.optimized,
        env.is_async,
        env.sandboxed,
        # A sandboxed environment's operators (confhub has none).
        frozenset(getattr(env, "intercepted_binops", ())),
        frozenset(getattr(env, "intercepted_unops", ())),
        env.code_generator_class,
        env.policies.get("compiler.ascii_str"),
        tuple(sorted((name, type(extension)) for name, extension in env.extensions.items())),
        _foldable(env.filters),
        _foldable(env.tests),
    )


COMPILED_TEMPLATES = CompiledTemplates()


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    """The template engine with `_()` translation and time/number filters installed.

    Filters: `meeting_time` ("14:00, thứ Tư, 10/09/2025"), `meeting_day` ("thứ Tư, 10/09/2025"),
    `clock` ("14:00"), `input_datetime` (a form's "10/09/2025 14:00"), `iso_day` (a link's
    "2025-09-10"), `number` ("2.050"),
    `say` (a :class:`~confhub.core.messages.Message` in the page's language).
    """

    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.bytecode_cache = COMPILED_TEMPLATES
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

        # Filters that read the settings take the render context, so that constant folding
        # never calls them while compiling (CompiledTemplates shares the code between apps).
        @pass_context
        def clock(context: Context, value: Any, timezone: str | None = None) -> str:
            return timefmt.format_clock(value, timezone or settings.timezone)

        @pass_context
        def input_datetime(context: Context, value: Any, timezone: str | None = None) -> str:
            return timefmt.format_input_datetime(value, timezone or settings.timezone)

        env.filters["meeting_time"] = meeting_time
        env.filters["meeting_day"] = meeting_day
        env.filters["clock"] = clock

        @pass_context
        def iso_day(context: Context, value: Any, timezone: str | None = None) -> str:
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
