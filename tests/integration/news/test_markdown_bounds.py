"""Markdown that would cost seconds to render is refused when it is saved or previewed, with a
message a person can act on; real minutes, long ones included, are kept with their HTML.

(How long a render takes is measured by bench/markdown_render.py, never here.)
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.news.conftest import HTML, MINUTES, cam_tu_article, write_and_publish
from tests.integration.news.long_minutes import long_minutes

pytestmark = pytest.mark.integration

# What the outside security check sent: 199,000 `[` took 2.75 s to render, on every view.
BRACKETS = "[" * 199_000
MAX_CHARACTERS = 100_000
# Inputs that make markdown-it-py work hardest per character, each as long as the text allowed.
PATHOLOGICAL = {
    "brackets": "[",
    "images": "![",
    "emphasis and brackets": "*[",
    "unclosed links": "[a](",
    "emphasis runs": "**a",
    "backticks": "`a ",
    "autolinks": "<a",
    "entities": "&",
    "nested lists": "- " * 9 + "a\n",
    "nested quotes": "> " * 19 + "a\n",
    "empty table cells": None,
}


def _pathological(unit: str | None) -> str:
    if unit is None:  # a table of empty cells: a header, its delimiter row, then rows
        row = "|" * 100 + "\n"
        text = row + "|" + "-|" * 99 + "\n"
        return (text + row * MAX_CHARACTERS)[:MAX_CHARACTERS]
    return (unit * (MAX_CHARACTERS // len(unit) + 1))[:MAX_CHARACTERS]


def _refused_for_formatting(answer: object, field: str) -> None:
    assert answer.status_code == 400, answer.text  # type: ignore[attr-defined]
    extra = answer.json()["extra"]  # type: ignore[attr-defined]
    assert extra[0]["key"] == field
    assert "too much formatting" in extra[0]["message"]


def test_a_body_of_brackets_is_refused_and_the_minutes_stay(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    assert secretariat.put(url, json={"markdown": MINUTES}).status_code == 200
    answer = secretariat.put(url, json={"markdown": BRACKETS})
    assert answer.status_code == 400, answer.text
    minutes = secretariat.get(url).json()
    assert (minutes["revision"], minutes["markdown"]) == (1, MINUTES)


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_minutes_of_the_largest_size_are_refused(
    name: str, secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    text = _pathological(PATHOLOGICAL[name])
    assert len(text) == MAX_CHARACTERS
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    _refused_for_formatting(secretariat.put(url, json={"markdown": text}), "markdown")
    assert secretariat.get(url).json()["revision"] == 0


def test_minutes_longer_than_the_limit_are_refused(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    answer = secretariat.put(url, json={"markdown": "a" * (MAX_CHARACTERS + 1)})
    assert answer.status_code == 400
    assert secretariat.put(url, json={"markdown": "a" * MAX_CHARACTERS}).status_code == 200


def test_long_real_minutes_are_kept_with_their_html(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    text = long_minutes(45_000)
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    answer = secretariat.put(url, json={"markdown": text})
    assert answer.status_code == 200, answer.text
    html = answer.json()["html"]
    assert html.count("<table>") > 10  # the header's, and the minutes' own tables
    assert "<h3>I. Thành phần tham dự</h3>" in html
    assert '<a href="https://thanhhoa.gov.vn/van-ban/1"' in html
    assert html.count("<li>") > 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BRACKETS, "Tối đa 100000 ký tự."),
        (_pathological("["), "Văn bản có quá nhiều định dạng để hiển thị"),
    ],
)
def test_the_minutes_form_refuses_brackets_in_vietnamese(
    text: str, message: str, secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML)
    answer = secretariat.post(
        f"/meetings/{meeting}/minutes",
        data={"markdown": text, "_csrf_token": secretariat.cookies.get("confhub_csrf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 400
    assert message in answer.text
    assert answer.text.count(text) == 1  # given back in the editor, not rendered beside it


def test_an_article_body_of_brackets_is_refused(
    secretariat: TestClient[Litestar], cam_tu_chair: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    answer = cam_tu_chair.patch(f"/api/v1/articles/{draft['id']}", json={"body": BRACKETS})
    assert answer.status_code == 400
    assert answer.json()["extra"][0]["key"] == "body"
    for unit in ("[", "- " * 9 + "a\n"):
        answer = cam_tu_chair.patch(
            f"/api/v1/articles/{draft['id']}", json={"body": _pathological(unit)}
        )
        _refused_for_formatting(answer, "body")
    assert cam_tu_article(cam_tu_chair)["body"] == draft["body"]
    cam_tu_chair.get(f"/articles/{draft['id']}/edit", headers=HTML)
    page = cam_tu_chair.post(
        f"/articles/{draft['id']}/edit",
        data={
            "title": draft["title"],
            "lead": draft["lead"],
            "body": _pathological("*["),
            "_csrf_token": cam_tu_chair.cookies.get("confhub_csrf"),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code == 400
    assert "Văn bản có quá nhiều định dạng" in page.text


def test_the_preview_refuses_brackets(secretariat: TestClient[Litestar]) -> None:
    answer = secretariat.post("/api/v1/news/preview", json={"markdown": BRACKETS})
    assert answer.status_code == 400
    _refused_for_formatting(
        secretariat.post("/api/v1/news/preview", json={"markdown": _pathological("![")}),
        "markdown",
    )


def test_one_user_previewing_too_fast_is_told_to_wait(
    secretariat: TestClient[Litestar], cam_tu_chair: TestClient[Litestar]
) -> None:
    answers = [
        secretariat.post("/api/v1/news/preview", json={"markdown": f"**{n}**"}) for n in range(40)
    ]
    assert answers[0].status_code == 200
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    assert int(refused[0].headers["retry-after"]) >= 1
    # Another user is not held back by the first one's previews.
    other = cam_tu_chair.post("/api/v1/news/preview", json={"markdown": "*khác*"})
    assert other.status_code == 200
    assert other.json()["html"] == "<p><em>khác</em></p>\n"
