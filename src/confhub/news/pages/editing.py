"""The signed-in pages of news: the secretariat writes the minutes (live preview, photos,
revisions, lock, publish) and sees the articles of a meeting; a site's editors edit and publish
an article. Forms answer with 303 (Post/Redirect/Get) or the page again with the error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.response import Redirect, Template
from markupsafe import Markup
from sqlalchemy import func, select

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.attendance.schemas import MAX_DELEGATES
from confhub.attendance.speaking import record as speaking_record
from confhub.core.errors import ConfhubError, InvalidInputError, PayloadTooLargeError
from confhub.core.forms import form_text, page_error, see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.text import check_line, check_text
from confhub.core.timefmt import local_time
from confhub.core.uploads import UPLOAD_ROUTE, read_upload_form
from confhub.meetings.controllers.documents import upload_chunks
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService
from confhub.news.articles import ArticleChanges, ArticleService, PointStatement
from confhub.news.deps import provide_article_service, provide_minutes_service
from confhub.news.markdown import (
    MAX_MARKDOWN_LENGTH,
    in_render_thread,
    render_bounded,
    render_checked,
    render_or_plain,
)
from confhub.news.minutes import MinutesService
from confhub.news.models import Article, Minutes
from confhub.news.publishing import Publisher
from confhub.news.review import review_queue
from confhub.news.sites import article_path
from confhub.units.models import Unit

T = TypeVar("T")

# Marks Markdown would read in a table cell (and `|`, which ends it): escaped with a backslash.
_MARKDOWN_MARKS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#!~&"})


def markdown_cell(text: str) -> str:
    """`text` as a Markdown table cell that says exactly it (one line, its marks escaped)."""
    return " ".join(text.split()).translate(_MARKDOWN_MARKS)


async def speaking_turns(session: Any, meeting_id: int, timezone: str) -> list[dict[str, Any]]:
    """The meeting's record of who spoke (from the speaking requests given the floor), as the
    minutes editor's "Speakers" button inserts it: each turn's cells, Markdown-escaped."""
    turns = await speaking_record.spoken(session, meeting_id)
    rows = []
    for number, turn in enumerate(turns, start=1):
        seconds = turn.seconds
        rows.append(
            {
                "number": number,
                "speaker": markdown_cell(turn.speaker),
                "point": markdown_cell(turn.point_name),
                "topic": markdown_cell(turn.topic),
                "started": f"{local_time(turn.started_at, timezone):%H:%M}",
                "minutes": None if seconds is None else seconds // 60,
                "seconds": None if seconds is None else seconds % 60,
            }
        )
    return rows


async def _preview(stored_html: str, text: str | None) -> Markup:
    """The preview beside an editor: the stored HTML, or the HTML of a text given back after an
    error (empty when that text is itself what could not be rendered)."""
    if text is None:
        return Markup(stored_html)  # noqa: S704 - sanitised when stored
    try:
        return await in_render_thread(render_bounded, text, "text")
    except InvalidInputError:
        return Markup("")


def _raw_html_of(text: str) -> list[str]:
    try:
        tags = render_checked(text, "text").raw_html_tags
    except InvalidInputError:
        return []
    return ["<!-- -->" if name == "!--" else f"<{name}>" for name in tags]


async def raw_html_tags(text: str) -> list[str]:
    """The raw HTML tags in `text` as the editor's warning names them (`<b>`, `<!-- -->`):
    pages show only their text. Rendered in the render thread; empty when the text cannot be
    rendered at all."""
    if "<" not in text:
        return []
    return await in_render_thread(_raw_html_of, text)


@dataclass(frozen=True)
class MinutesPage:
    """The minutes editor of one request: shown, or shown again when a form is refused."""

    request: Request[Any, Any, Any]
    meetings: MeetingService
    minutes_service: MinutesService
    principal: Principal
    meeting_id: int

    @property
    def path(self) -> str:
        """Where a successful form goes back to."""
        return f"/meetings/{self.meeting_id}/minutes"

    async def render(
        self,
        *,
        error: ConfhubError | None = None,
        markdown: str | None = None,
        caption: str | None = None,
    ) -> Template:
        """The editor; after a refusal, with its error and the text as it was sent."""
        meeting = await self.meetings.get_managed(self.principal, self.meeting_id)
        minutes_service = self.minutes_service
        minutes = await minutes_service.get_or_new(meeting)
        header = await minutes_service.header(meeting, minutes)
        counts = dict(
            (
                await minutes_service.session.execute(
                    select(Article.status, func.count())
                    .where(Article.meeting_id == meeting.id)
                    .group_by(Article.status)
                )
            ).all()
        )
        context = {
            "meeting": meeting,
            "minutes": minutes,
            "header_html": await in_render_thread(render_or_plain, header),
            "text": minutes.markdown if markdown is None else markdown,
            "preview_html": await _preview(minutes.markdown_html, markdown),
            "raw_html": await raw_html_tags(minutes.markdown if markdown is None else markdown),
            "max_length": MAX_MARKDOWN_LENGTH,
            "revisions": await minutes_service.revisions(minutes),
            "photos": await minutes_service.photos(meeting.id),
            "article_counts": counts,
            "error": page_error(self.request, error),
            # A refused photo: its caption as typed, its error beside the file field.
            "photo_caption": caption,
            "speaking_turns": await speaking_turns(
                minutes_service.session, meeting.id, self.request.app.state.settings.timezone
            ),
        }
        return Template("news/minutes.html", context=context)

    async def submit(
        self,
        action: Callable[[Meeting], Awaitable[T]],
        done: Redirect | Callable[[T], Redirect],
        *,
        markdown: str | None = None,
        caption: str | None = None,
    ) -> Template | Redirect:
        """Do a form's `action` on the managed meeting (see :func:`confhub.core.forms.submit`)."""
        meeting = await self.meetings.get_managed(self.principal, self.meeting_id)
        return await submit(
            self.minutes_service.session,
            lambda: action(meeting),
            done=done,
            refused=lambda error: self.render(error=error, markdown=markdown, caption=caption),
        )


def provide_minutes_page(
    request: Request[Any, Any, Any],
    meetings: MeetingService,
    minutes_service: MinutesService,
    principal: Principal,
    meeting_id: Id,
) -> MinutesPage:
    """Dependency: the minutes editor of the meeting in the path."""
    return MinutesPage(request, meetings, minutes_service, principal, meeting_id)


class MinutesPagesController(Controller):
    """`/meetings/{id}/minutes…` and `/meetings/{id}/articles…`: the secretariat's pages."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "minutes_service": Provide(provide_minutes_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
        "page": Provide(provide_minutes_page, sync_to_thread=False),
    }

    @get("/meetings/{meeting_id:int}/minutes", name="minutes")
    async def minutes_page(self, page: MinutesPage) -> Template:
        """The minutes editor: header from the meeting, text with live preview, photos."""
        return await page.render()

    @post("/meetings/{meeting_id:int}/minutes")
    async def save_minutes(
        self, request: Request[Any, Any, Any], page: MinutesPage
    ) -> Template | Redirect:
        """Save the text as a new revision."""
        text = form_text(await request.form(), "markdown", strip=False).replace("\r\n", "\n")

        async def save(meeting: Meeting) -> None:
            markdown = check_text("markdown", text)
            await page.minutes_service.save(meeting, page.principal, markdown)

        return await page.submit(save, see_other(page.path, "saved"), markdown=text)

    @post("/meetings/{meeting_id:int}/minutes/photos", **UPLOAD_ROUTE)
    async def upload_photo(
        self, request: Request[Any, Any, Any], page: MinutesPage
    ) -> Template | Redirect:
        """Attach a photo with its caption (checked by content, re-encoded)."""
        settings = request.app.state.settings
        sent = await read_upload_form(
            request, settings.max_upload_bytes, settings.max_request_body_bytes
        )
        upload = sent.form.get("file")
        typed = form_text(sent.form, "caption", strip=False)

        async def add(meeting: Meeting) -> None:
            if sent.too_large:
                raise PayloadTooLargeError.upload(settings.max_upload_mb)
            if not isinstance(upload, UploadFile):
                raise InvalidInputError("file", N_("Choose a photo to upload."))
            caption = check_line("caption", typed)
            await page.minutes_service.add_photo(
                meeting, page.principal, caption, upload_chunks(upload)
            )

        return await page.submit(add, see_other(page.path, "photo_added"), caption=typed)

    @post("/meetings/{meeting_id:int}/minutes/photos/{photo_id:int}/caption")
    async def caption_photo(
        self, request: Request[Any, Any, Any], page: MinutesPage, photo_id: Id
    ) -> Template | Redirect:
        """Change a photo's caption."""
        caption = form_text(await request.form(), "caption", strip=False)
        return await page.submit(
            lambda meeting: page.minutes_service.set_caption(
                meeting, photo_id, check_line("caption", caption)
            ),
            see_other(page.path, "caption_saved"),
        )

    @post("/meetings/{meeting_id:int}/minutes/photos/{photo_id:int}/remove")
    async def remove_photo(self, page: MinutesPage, photo_id: Id) -> Template | Redirect:
        """Take a photo out of the minutes."""
        return await page.submit(
            lambda meeting: page.minutes_service.remove_photo(meeting, photo_id),
            see_other(page.path, "photo_removed"),
        )

    @post("/meetings/{meeting_id:int}/minutes/lock")
    async def lock_minutes(self, page: MinutesPage) -> Template | Redirect:
        """Lock the approved minutes."""
        return await page.submit(
            lambda meeting: page.minutes_service.lock(meeting, page.principal),
            see_other(page.path, "locked"),
        )

    @post("/meetings/{meeting_id:int}/minutes/publish")
    async def publish_minutes(self, page: MinutesPage) -> Template | Redirect:
        """Publish the province's article and write the units' drafts."""
        return await page.submit(
            Publisher(page.minutes_service).publish,
            lambda outcome: see_other(
                f"/meetings/{page.meeting_id}/articles",
                "minutes_published",
                n=outcome.created,
                regenerated=outcome.regenerated,
                kept=outcome.kept,
            ),
        )

    @get("/meetings/{meeting_id:int}/articles", name="meeting_articles")
    async def meeting_articles(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template:
        """The review queue: the unit articles grouped by the roll call, and bulk publishing."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await _review_page(request, minutes_service, meeting)

    @post("/meetings/{meeting_id:int}/articles/publish-drafts")
    async def publish_drafts(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """Publish the ready unit drafts at once: as many as the confirmation said, or none (the
        queue again, with the new counts, when the drafts changed meanwhile)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        typed = form_text(await request.form(), "expected")
        expected = int(typed) if typed.isdigit() and len(typed) < 8 else None

        async def refused(error: ConfhubError) -> Template:
            # Read again: the rollback expired what was loaded.
            again = await meetings.get_managed(principal, meeting_id)
            return await _review_page(request, minutes_service, again, error=error)

        return await submit(
            minutes_service.session,
            lambda: Publisher(minutes_service).publish_drafts(meeting, expected),
            done=lambda count: see_other(
                f"/meetings/{meeting_id}/articles", "drafts_published", n=count
            ),
            refused=refused,
        )


async def _review_page(
    request: Request[Any, Any, Any],
    minutes_service: MinutesService,
    meeting: Meeting,
    *,
    error: ConfhubError | None = None,
) -> Template:
    default = request.app.state.settings.default_province
    context = {
        "meeting": meeting,
        "minutes": await minutes_service.find(meeting.id),
        "queue": await review_queue(minutes_service.session, meeting),
        "path_of": lambda article: article_path(article, default),
        "error": page_error(request, error),
    }
    return Template("news/meeting_articles.html", context=context)


async def _edit_page(
    request: Request[Any, Any, Any],
    articles: ArticleService,
    article: Article,
    *,
    error: ConfhubError | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    session = articles.session
    unit = await session.get(Unit, article.unit_code) if article.unit_code else None
    minutes_revision = None
    if article.meeting_id is not None:
        minutes_revision = await session.scalar(
            select(Minutes.published_revision).where(Minutes.meeting_id == article.meeting_id)
        )
    default = request.app.state.settings.default_province
    text = values or {
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "presiding_name": article.presiding_name or "",
        "presiding_position": article.presiding_position or "",
        "delegates_present": (
            "" if article.delegates_present is None else str(article.delegates_present)
        ),
    }
    context = {
        "article": article,
        "unit": unit,
        "values": text,
        "preview_html": await _preview(article.body_html, values["body"] if values else None),
        "raw_html": await raw_html_tags(text["body"]),
        "max_length": MAX_MARKDOWN_LENGTH,
        "stale": bool(
            minutes_revision
            and article.minutes_revision
            and article.minutes_revision < minutes_revision
        ),
        "public_path": article_path(article, default),
        "states_point": article.unit_code is not None and article.meeting_id is not None,
        "error": page_error(request, error),
        "error_field": getattr(error, "field", None),
    }
    return Template("news/article_edit.html", context=context)


POINT_FIELDS = ("presiding_name", "presiding_position", "delegates_present")


def _point_statement(values: dict[str, str]) -> PointStatement:
    """Who presided and how many attended, as typed on the edit page."""
    typed = values["delegates_present"].strip()
    if typed and not (typed.isdigit() and int(typed) <= MAX_DELEGATES):
        raise InvalidInputError(
            "delegates_present", N_("a number from 0 to %(max)s is required"), max=MAX_DELEGATES
        )
    return PointStatement(
        presiding_name=check_line("presiding_name", values["presiding_name"]),
        presiding_position=check_line("presiding_position", values["presiding_position"]),
        delegates_present=int(typed) if typed else None,
    )


def _states_other_point(article: Article, statement: PointStatement) -> bool:
    """Whether the edit page's point fields say something the article does not say yet."""
    if not statement.given:
        return False
    stated = (article.presiding_name or "", article.presiding_position or "")
    typed = (statement.presiding_name or "", statement.presiding_position or "")
    return article.needs_confirmation or (
        typed != stated or statement.delegates_present != article.delegates_present
    )


class ArticleEditPagesController(Controller):
    """`/articles/{id}/edit`: a site's editor reviews, edits and publishes an article."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "articles": Provide(provide_article_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/articles/{article_id:int}/edit", name="article_edit")
    async def edit_page(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal,
        article_id: Id,
    ) -> Template:
        """The article's editor with a live preview."""
        article = await articles.get_editable(principal, article_id)
        return await _edit_page(request, articles, article)

    @post("/articles/{article_id:int}/edit")
    async def save(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal,
        article_id: Id,
    ) -> Template | Redirect:
        """Save the text (and publish it too when "Save and publish" was pressed)."""
        article = await articles.get_editable(principal, article_id)
        form = await request.form()
        values = {name: form_text(form, name, strip=False) for name in ("title", "lead", "body")}
        values.update({name: form_text(form, name) for name in POINT_FIELDS})
        changes = ArticleChanges(
            title=values["title"],
            lead=values["lead"],
            body=values["body"],
            featured=form.get("featured") == "on",
        )
        publishing = form_text(form, "action") == "publish"

        async def save() -> None:
            check_line("title", values["title"])
            check_text("lead", values["lead"])
            check_text("body", values["body"])
            statement = _point_statement(values)
            await articles.update(article, principal, changes)
            if article.unit_code is not None and _states_other_point(article, statement):
                await articles.state_point(article, principal, statement)
            if publishing:
                await articles.publish(article)

        async def refused(error: ConfhubError) -> Template:
            again = await articles.get_editable(principal, article_id)
            return await _edit_page(request, articles, again, error=error, values=values)

        done = "article_published" if publishing else "article_saved"
        return await submit(
            articles.session,
            save,
            done=see_other(f"/articles/{article_id}/edit", done),
            refused=refused,
        )

    @post("/articles/{article_id:int}/publish")
    async def publish(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal,
        article_id: Id,
    ) -> Template | Redirect:
        """Publish the article as it is (a draft waiting for confirmation: the page again,
        saying what it needs)."""
        article = await articles.get_editable(principal, article_id)

        async def refused(error: ConfhubError) -> Template:
            # Read again: the rollback expired what was loaded.
            again = await articles.get_editable(principal, article_id)
            return await _edit_page(request, articles, again, error=error)

        return await submit(
            articles.session,
            lambda: articles.publish(article),
            done=see_other(f"/articles/{article_id}/edit", "article_published"),
            refused=refused,
        )
