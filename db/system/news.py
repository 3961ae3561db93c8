"""Portal news for the bell (SPEC §3): administrators publish, everyone reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from db.schema.models import News, User
from db.system.timezones import iso_utc

__all__ = ["NewsItem", "delete_news", "latest_news", "publish_news"]


@dataclass(frozen=True)
class NewsItem:
    id: int
    title: str
    body: str
    author: str
    published_at: Any

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": self.author,
            "publishedAt": iso_utc(self.published_at),
        }


def latest_news(limit: int = 10) -> list[NewsItem]:
    query = (
        News.select(News, User.email)
        .join(User, on=(News.author == User.id), join_type=JOIN.LEFT_OUTER)
        .order_by(News.published_at.desc(), News.id.desc())
        .limit(limit)
    )
    items = []
    for n in query.objects():
        items.append(NewsItem(n.id, n.title, n.body, n.email or "", n.published_at))
    return items


def publish_news(title: str, body: str, author_id: int | None) -> int:
    title = (title or "").strip()
    if not title:
        raise ValueError("a news item needs a title")
    if len(title) > 200:
        raise ValueError("a title has at most 200 characters")
    return int(News.create(title=title, body=(body or "").strip(), author=author_id).id)


def delete_news(news_id: int) -> bool:
    return bool(News.delete().where(News.id == news_id).execute())
