"""A news site is the province's or one unit's set of public pages; this names them, says who
edits each, and builds their addresses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true

from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.news.models import Article, ArticleStatus

UNIT_EDITOR_ROLES = (Role.CHAIR, Role.EDITOR)


@dataclass(frozen=True)
class Site:
    """The province's site (`unit_code` None) or a unit's."""

    province_code: int
    unit_code: int | None = None

    @property
    def key(self) -> str:
        """ "province:38" or "unit:15148", as stored on articles and visit counts."""
        if self.unit_code is None:
            return f"province:{self.province_code}"
        return f"unit:{self.unit_code}"

    @property
    def news_path(self) -> str:
        """The site's list page."""
        return "/news" if self.unit_code is None else f"/units/{self.unit_code}/news"

    @property
    def feed_path(self) -> str:
        """The site's Atom feed."""
        return f"{self.news_path}/feed.atom"

    @classmethod
    def of(cls, article: Article) -> Site:
        """The site an article belongs to."""
        return cls(article.province_code, article.unit_code)


def article_path(article: Article, default_province: int | None = None) -> str:
    """Where an article is read (the province's `/news/{slug}` names another province)."""
    site = Site.of(article)
    path = f"{site.news_path}/{article.slug}"
    if article.unit_code is None and article.province_code != default_province:
        path += f"?province={article.province_code}"
    return path


def feed_path(site: Site, default_province: int | None = None) -> str:
    """The site's Atom feed (the province's `/news/feed.atom` names another province)."""
    if site.unit_code is None and site.province_code != default_province:
        return f"{site.feed_path}?province={site.province_code}"
    return site.feed_path


def may_edit(principal: Principal | None, province_code: int, unit_code: int | None) -> bool:
    """Admins; the province's secretariat (every site of it); a unit's chair or editor (its own
    site only)."""
    if principal is None:
        return False
    if principal.manages_province(province_code):
        return True
    return (
        unit_code is not None
        and principal.role in UNIT_EDITOR_ROLES
        and principal.unit_code == unit_code
    )


def may_edit_article(principal: Principal | None, article: Article) -> bool:
    """Whether `principal` edits and publishes this article."""
    return may_edit(principal, article.province_code, article.unit_code)


def editable_clause(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the articles `principal` may edit (and so see as drafts)."""
    if principal is None:
        return false()
    if principal.is_admin:
        return true()
    if principal.role is Role.SECRETARIAT and principal.province_code is not None:
        return Article.province_code == principal.province_code
    if principal.role in UNIT_EDITOR_ROLES and principal.unit_code is not None:
        return Article.unit_code == principal.unit_code
    return false()


def visible_clause(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: published articles, and the drafts `principal` may edit."""
    return or_(Article.status == ArticleStatus.PUBLISHED.value, editable_clause(principal))
