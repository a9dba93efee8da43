"""Server-rendered pages of the news domain: the public portal pages of the province and of each
unit, and the signed-in pages where minutes are written and articles edited."""

from confhub.news.pages.editing import ArticleEditPagesController, MinutesPagesController
from confhub.news.pages.public import NewsFeedController, NewsPagesController

NEWS_PAGE_CONTROLLERS = [
    NewsPagesController,
    NewsFeedController,
    MinutesPagesController,
    ArticleEditPagesController,
]

__all__ = [
    "NEWS_PAGE_CONTROLLERS",
    "ArticleEditPagesController",
    "MinutesPagesController",
    "NewsFeedController",
    "NewsPagesController",
]
