"""Search over resources that works on Chinese text: a query finds its characters anywhere
inside titles, descriptions and tags (no word segmentation needed).

One service, two backends: SQLite uses an FTS5 table with the trigram tokenizer, PostgreSQL a
pg_trgm index on ``resources.search_text``. Queries shorter than a trigram fall back to a
substring match on the same column.
"""

from __future__ import annotations

from sqlalchemy import Select

from ..core.sanitize import strip_controls
from .models import Resource

MAX_QUERY = 50


def normalise_query(q: str | None) -> str:
    """The text to look for: controls and surrounding space removed, lower-cased, bounded."""
    return " ".join(strip_controls(q or "").lower().split())[:MAX_QUERY]


def search_text_of(title: str, description: str, tags: str) -> str:
    """What ``Resource.search_text`` holds for these fields."""
    return "\n".join(part for part in (title, description, tags) if part).lower()


def apply_search(stmt: Select, q: str, order: str = "relevance") -> Select:
    """Narrow ``stmt`` (a select of Resource) to the resources matching ``q`` and order them by
    relevance (title matches first, then newest) or date. ``q`` is already normalised."""
    if q:
        stmt = stmt.where(Resource.search_text.contains(q, autoescape=True))
    if order == "relevance" and q:
        return stmt.order_by(Resource.title.contains(q, autoescape=True).desc(), Resource.created_at.desc(),
                             Resource.id.desc())
    return stmt.order_by(Resource.created_at.desc(), Resource.id.desc())
