"""Bounded pagination for pages and the API: huge or malformed page numbers are a 400, never a 500."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import Select, func, select

from .i18n import lazy_gettext as _l
from .validate import BadRequest

MAX_PAGE = 100_000
MAX_PER_PAGE = 100


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not low <= int(raw) <= high:
        raise BadRequest(
            _l("%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low, high=high), field=name
        )
    return int(raw)


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    more: bool = False  # counting stopped at ``total``: there are more (paginate's count_up_to)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or (self.more and len(self.items) == self.per_page)


def page_args(default_per_page: int = 20) -> tuple[int, int]:
    return (
        _bounded_int("page", 1, 1, MAX_PAGE),
        _bounded_int("per_page", default_per_page, 1, MAX_PER_PAGE),
    )


def paginate(session, stmt: Select, *, default_per_page: int = 20, scalars: bool = True,
             count_up_to: int | None = None) -> Page:
    """Run ``stmt`` for the requested page and count the total with one extra query.

    ``count_up_to``: stop counting there (the page then says "more than N"): counting all 200,000
    resources a city can see took longer than finding the page itself."""
    page, per_page = page_args(default_per_page)
    counted = stmt.order_by(None)
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = session.execute(select(func.count()).select_from(counted.subquery())).scalar_one()
    more = count_up_to is not None and total > count_up_to
    result = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars()) if scalars else list(result)
    return Page(items=items, total=count_up_to if more else total, page=page, per_page=per_page, more=more)


def page_of(session, stmt: Select, count_stmt: Select, params: dict, default_per_page: int = 20, *,
            count_short_pages: bool = True) -> Page:
    """``paginate`` for statements built once and bound per request (building a statement and its
    cache key cost more than running it): ``stmt`` ends in ``.limit(bindparam("limit"))
    .offset(bindparam("offset"))`` and ``count_stmt`` counts its rows; both take ``params``.

    ``count_short_pages=False``: the page is read first and counted only when it is full (or empty
    past the first): a shorter page is the last, so its offset and length are the total. For lists
    whose count reads much (a search over every account): one statement fewer when it finds a few."""
    number, per_page = page_args(default_per_page)
    offset = (number - 1) * per_page
    if count_short_pages:
        total = session.execute(count_stmt, params).scalar_one()
    items = session.execute(stmt, {**params, "limit": per_page, "offset": offset}).all()
    if not count_short_pages:
        if len(items) < per_page and (items or number == 1):
            total = offset + len(items)
        else:
            total = session.execute(count_stmt, params).scalar_one()
    return Page(items=items, total=total, page=number, per_page=per_page)
