"""Apps built in one process share their compiled templates (confhub.core.templating), and an
environment that would compile a template differently never gets another's code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import DictLoader, Environment

from confhub.core.templating import COMPILED_TEMPLATES, CompiledTemplates, template_config
from confhub.settings import Settings


def confhub_environment(tmp_path: Path, timezone: str) -> Environment:
    settings = Settings(database_url="sqlite://", media_dir=tmp_path, timezone=timezone)
    environment: Environment = template_config(settings).to_engine().engine
    return environment


def test_a_second_app_reuses_the_code_and_keeps_its_own_settings(tmp_path: Path) -> None:
    first = confhub_environment(tmp_path, "Asia/Ho_Chi_Minh")
    second = confhub_environment(tmp_path, "UTC")
    assert first.bytecode_cache is COMPILED_TEMPLATES
    source = '{{ moment|clock }} {{ moment|clock("UTC") }}'
    first_template = first.from_string(source)
    # from_string bypasses the loader: compare what the loader hands out instead.
    first_page = first.get_template("base.html")
    known = len(COMPILED_TEMPLATES._code)
    second_page = second.get_template("base.html")
    assert len(COMPILED_TEMPLATES._code) == known
    assert second_page.root_render_func.__code__ is first_page.root_render_func.__code__
    # The shared code reads each app's own filters (here its time zone) when it renders.
    moment = datetime(2025, 9, 10, 7, 0, tzinfo=UTC)
    assert first_template.render(moment=moment) == "14:00 07:00"
    assert second.from_string(source).render(moment=moment) == "07:00 07:00"


def test_an_environment_whose_folded_filter_differs_compiles_its_own() -> None:
    cache = CompiledTemplates()
    templates = {"page.html": '{{ "Cẩm Tú"|shout }}'}
    loud = Environment(loader=DictLoader(templates), bytecode_cache=cache)
    loud.filters["shout"] = str.upper
    quiet = Environment(loader=DictLoader(templates), bytecode_cache=cache)
    quiet.filters["shout"] = str.lower
    # The optimizer calls `shout` while compiling: the constant is in the code.
    assert loud.get_template("page.html").render() == "CẨM TÚ"
    assert quiet.get_template("page.html").render() == "cẩm tú"
    assert len(cache._code) == 2


def test_a_changed_source_is_compiled_again() -> None:
    cache = CompiledTemplates()
    templates = {"page.html": "one"}
    assert (
        Environment(loader=DictLoader(templates), bytecode_cache=cache)
        .get_template("page.html")
        .render()
        == "one"
    )
    templates["page.html"] = "two"
    assert (
        Environment(loader=DictLoader(templates), bytecode_cache=cache)
        .get_template("page.html")
        .render()
        == "two"
    )
