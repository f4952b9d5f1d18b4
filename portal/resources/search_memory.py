"""Each process remembers the matches of recent searches, the same for everyone, and works out
per request which of them the person may see, filters, orders and cuts the page in Python.

Why: finding a query's matches is the same work for every person (a two-character query at
200,000 resources: 1,600 matches looked up, read and sorted, ~20 million instructions in SQLite,
17 ms); which of them one person may see is a few comparisons per match. Remembered, a search
costs one small query for the generation, the person's audiences (asked anyway) and the page's
twenty rows.

When the matches are still right: ``resource_search_state`` holds one number that database
triggers change on every write to what the matches hold (search_ddl: resources' searchable,
visibility and filter columns, and their audiences), in the writing transaction itself, so no
writer can forget and every process sees it. Matches are kept with the number read *before* they
were: a write between the two gives a new number and the next search reads them again. The
page's rows are then read with the visibility rule in SQL once more, so even a write that lands
between reading the number and the page never shows a resource the person may not see.

What stays in SQL: a list without a query (newest first from an index, stopping at the page) and
a query with more than ``MOST`` matches (kept as "too many" so the next search goes straight to SQL).
Such a list's count stops at a limit (the page then says "more than 1,000"); whether the public
resources alone pass it is also the same for everyone and is kept the same way
(``public_more_than``): then nobody's list needs counting.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select

from ..core.models import plain_rows
from ..extensions import db
from .models import Resource, ResourceAudience, ResourceSearchState
from .search import search_clause, search_of, title_match

MOST = 10_000  # matches kept for one query; more: the search runs in SQL
KEPT = 100_000  # matches kept in all per process (~200 bytes each: ~20 MB at most)
DEFAULT_QUERIES = 256  # queries kept per process (RESOURCE_SEARCH_MEMORY; 0: none)
COUNTS = 512  # public_more_than's answers kept per process (one per combination of filters and limit)
# The columns a list is filtered on (services.FILTERS), in the order of Match's fields below.
FILTERED = ("subject", "stage", "grade", "kind", "edition", "owner_id")


class Match(NamedTuple):
    """What the visibility rule and the filters read of one match; its place in the orders says
    the rest. Only numbers, strings and tuples of numbers: the garbage collector stops following
    such tuples, so a full memory adds nothing to its passes."""

    id: int
    visibility: str
    county_id: int | None
    subject: str
    stage: str
    grade: int | None
    kind: str
    edition: str
    owner_id: int
    communities: tuple[int, ...]  # who a community- or pairing-visible resource is shared with
    partnerships: tuple[int, ...]


class Matches(NamedTuple):
    generation: int
    by_relevance: tuple[Match, ...] | None  # None: more than MOST matches
    by_date: tuple[Match, ...] | None
    public: int = 0  # how many of them are public (everyone who may see anything sees those)
    # The ids of the others, whose visibility depends on the person, by what lets a member see
    # them: ("owner", user id), ("community", id) for community-visible ones shared there,
    # ("pairing", id) for pairing-visible ones shared there (see ``reach_keys``).
    reach: dict[tuple[str, int], frozenset[int]] | None = None


_GENERATION = select(ResourceSearchState.generation).where(ResourceSearchState.id == 1)


class _Memory:
    """The process's remembered searches, newest used last; threads share it."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, Matches] = OrderedDict()
        self.kept = 0
        self.counts: OrderedDict[tuple, tuple[int, bool]] = OrderedDict()  # public_more_than

    def get(self, q: str) -> Matches | None:
        return self.entries.get(q)

    def put(self, q: str, matches: Matches) -> None:
        with self.lock:
            old = self.entries.pop(q, None)
            self.kept -= _size(old)
            self.entries[q] = matches
            self.kept += _size(matches)
            while len(self.entries) > self.size or (self.kept > KEPT and len(self.entries) > 1):
                self.kept -= _size(self.entries.popitem(last=False)[1])

    def put_count(self, key: tuple, generation: int, more: bool) -> None:
        with self.lock:
            self.counts[key] = (generation, more)
            self.counts.move_to_end(key)
            while len(self.counts) > COUNTS:
                self.counts.popitem(last=False)


def _size(matches: Matches | None) -> int:
    return len(matches.by_date) if matches is not None and matches.by_date is not None else 0


def _memory() -> _Memory | None:
    size = current_app.config.get("RESOURCE_SEARCH_MEMORY", DEFAULT_QUERIES)  # config.py
    if not size:
        return None
    memory = current_app.extensions.get("resource_search_memory")
    if memory is None or memory.size != size:
        memory = current_app.extensions["resource_search_memory"] = _Memory(size)
    return memory


def _memory_at_generation() -> tuple[_Memory | None, int | None]:
    """The process's memory and the database's generation, or (None, None) when nothing may be
    kept: the memory is off, or there is no generation yet (the row comes with the first
    resource written, or the migration)."""
    memory = _memory()
    if memory is None:
        return None, None
    generation = plain_rows(_GENERATION, {}).scalar()
    return (memory, generation) if generation is not None else (None, None)


def matches_of(q: str) -> Matches | None:
    """The matches of the normalised, non-empty query ``q`` at the database's current generation,
    remembered or read now; None when the search must run in SQL (memory off, no generation
    yet, or more than ``MOST`` matches)."""
    memory, generation = _memory_at_generation()
    if memory is None:
        return None
    found = memory.get(q)
    if found is None or found.generation != generation:
        found = _read(q, generation)
        memory.put(q, found)
    return found if found.by_relevance is not None else None


def public_more_than(filters: dict, limit: int, walked: tuple[str, ...] | None = None) -> bool:
    """Whether more than ``limit`` public resources (not deleted) match ``filters`` (names of
    ``FILTERED``): then so do the resources of every signed-in person's list, which holds all the
    public ones and what is shared with them on top, and that list need not be counted to say
    "more than ``limit``". The same for everyone: kept per filters and limit at the generation
    (its triggers follow the visibility, deletion and every filtered column). False when the
    memory is off or there is no generation yet (the list is counted then, as before).

    Why: the count of a list without a query reads up to ``limit`` + 1 of the resources that
    person may see, each through the visibility rule (the library's first page, 200,000
    resources: 1.7 ms of its 8 ms). ``walked``: the filters to find the rows by (``walked_filters``)."""
    memory, generation = _memory_at_generation()
    if memory is None:
        return False
    key = (tuple(filters.items()), limit)
    found = memory.counts.get(key)
    if found is not None and found[0] == generation:
        return found[1]
    statement = _PUBLIC_COUNTS.get((tuple(filters), walked))
    if statement is None:
        public = (select(Resource.id)
                  .where(Resource.deleted_at.is_(None), Resource.visibility == "public", *filter_terms(filters, walked))
                  .limit(bindparam("count_up_to")))
        statement = select(func.count()).select_from(public.subquery())
        _PUBLIC_COUNTS[(tuple(filters), walked)] = statement
    more = db.session.execute(statement, {**filters, "count_up_to": limit + 1}).scalar_one() > limit
    memory.put_count(key, generation, more)
    return more


_PUBLIC_COUNTS: dict[tuple, object] = {}  # public_more_than's statements, per filter names and walked ones
_MATCHES: dict[str, tuple] = {}  # statements built once per way of searching


def _statements(how: str) -> tuple:
    if how not in _MATCHES:
        where = (Resource.deleted_at.is_(None), search_clause(how))
        matches = (select(Resource.id, Resource.visibility, Resource.county_id,
                          *(getattr(Resource, name) for name in FILTERED),
                          Resource.created_at, title_match().label("in_title"))
                   .where(*where).limit(MOST + 1))
        audiences = (select(ResourceAudience.resource_id, ResourceAudience.community_id,
                            ResourceAudience.partnership_id)
                     .where(ResourceAudience.resource_id.in_(bindparam("ids", expanding=True))))
        _MATCHES[how] = (matches, audiences)
    return _MATCHES[how]


def _read(q: str, generation: int) -> Matches:
    how, values = search_of(q)
    if how == "nothing":
        return Matches(generation, (), ())
    matches, audiences = _statements(how)
    rows = db.session.execute(matches, values).all()
    if len(rows) > MOST:
        return Matches(generation, None, None)
    shared = [row[0] for row in rows if row[1] in ("community", "pairing")]
    communities: dict[int, list[int]] = {}
    partnerships: dict[int, list[int]] = {}
    if shared:
        for resource_id, community_id, partnership_id in db.session.execute(audiences, {"ids": shared}):
            if community_id is not None:
                communities.setdefault(resource_id, []).append(community_id)
            if partnership_id is not None:
                partnerships.setdefault(resource_id, []).append(partnership_id)
    # Newest first (the date, then the id, as search_order), then title matches first (a stable sort).
    rows.sort(key=lambda row: (row.created_at, row.id), reverse=True)
    label = {}  # one string object per label, not one per row
    by_date = tuple(Match(row[0], *(label.setdefault(value, value) if isinstance(value, str) else value
                                    for value in row[1:9]),
                          tuple(communities.get(row[0], ())), tuple(partnerships.get(row[0], ())))
                    for row in rows)
    in_title = [bool(row.in_title) for row in rows]
    by_relevance = tuple([m for m, title in zip(by_date, in_title, strict=True) if title]
                         + [m for m, title in zip(by_date, in_title, strict=True) if not title])
    reach: dict[tuple[str, int], set[int]] = {}
    shared_ones = 0
    for m in by_date:
        if m.visibility == "public":
            continue
        shared_ones += 1
        reach.setdefault(("owner", m.owner_id), set()).add(m.id)
        if m.visibility in ("community", "pairing"):
            for target in (m.communities if m.visibility == "community" else m.partnerships):
                reach.setdefault((m.visibility, target), set()).add(m.id)
    return Matches(generation, by_relevance, by_date, len(by_date) - shared_ones,
                   {key: frozenset(ids) for key, ids in reach.items()})


def visible_rule(shape: tuple, values: dict) -> Callable[[Match], bool] | None:
    """``permissions.visible_resources`` for a match that is not public, from the same key and
    values as its SQL (``visibility_of``); every person who may see anything sees public ones.
    None: this person sees nothing. Deleted resources are never among the matches."""
    if shape[0] == "nobody":
        return None
    owner = values["visible_owner"]
    if shape[0] == "bureau":
        if shape[1]:
            county = values["visible_county"]
            return lambda m: m.owner_id == owner or (m.visibility != "private" and m.county_id == county)
        return lambda m: m.owner_id == owner or m.visibility != "private"
    communities = frozenset(values.get("visible_communities", ()))
    partnerships = frozenset(values.get("visible_partnerships", ()))

    def member(m: Match) -> bool:
        return (m.owner_id == owner
                or (m.visibility == "community" and not communities.isdisjoint(m.communities))
                or (m.visibility == "pairing" and not partnerships.isdisjoint(m.partnerships)))

    return member


def reach_keys(shape: tuple, values: dict) -> tuple[tuple[str, int], ...] | None:
    """The keys of ``Matches.reach`` whose resources this member may see (their own, those shared
    with their communities and their school's partnerships); None for the bureau and for nobody,
    whose rules are not by audience."""
    if shape[0] != "member":
        return None
    return (("owner", values["visible_owner"]),
            *(("community", c) for c in values.get("visible_communities", ())),
            *(("pairing", p) for p in values.get("visible_partnerships", ())))


_VISIBILITY = Match._fields.index("visibility")


def page_of(matches: Matches, visible: Callable[[Match], bool] | None, filters: dict, by_date: bool,
            offset: int, limit: int, reach: tuple | None = None) -> tuple[list[int], int]:
    """The ids of the page (in order) among the matches ``visible`` lets through and ``filters``
    keeps, and how many there are. One comprehension over plain tuples: 1,600 matches cost
    about as much as reading one page's rows. ``reach``: the person's ``reach_keys``, when their
    rule is by audience."""
    if visible is None:
        return [], 0
    rows = matches.by_date if by_date else matches.by_relevance
    public = _VISIBILITY
    seen = None  # the ids of the matches not public that this member may see
    if reach is not None and matches.reach is not None:
        seen = frozenset().union(*(matches.reach.get(key, ()) for key in reach))
        visible = lambda m: m[0] in seen  # noqa: E731  (a set lookup rather than the rule)
    if filters:
        get = itemgetter(*(Match._fields.index(name) for name in filters))
        want = tuple(filters.values()) if len(filters) > 1 else next(iter(filters.values()))
        kept = [m for m in rows if get(m) == want and (m[public] == "public" or visible(m))]
    elif seen is not None:
        # No filter: the public matches by number plus those others, and the page read until it is
        # full (two-character queries have 1,600 matches, a third of them not public).
        page = islice((m[0] for m in rows if m[public] == "public" or m[0] in seen), offset, offset + limit)
        return list(page), matches.public + len(seen)
    else:
        kept = [m for m in rows if m[public] == "public" or visible(m)]
    return [m[0] for m in kept[offset:offset + limit]], len(kept)


# --- which index a filtered list walks (SQLite) ---------------------------------------------

# The filters with an index of their own ordered by date (models.Resource), and the pair with one.
WALKABLE = ("subject", "stage", "grade", "kind", "edition")
PAIR = ("subject", "grade")
VALUE_COUNTS_SECONDS = 600
_value_counts: tuple[float, dict] = (float("-inf"), {})
_counting = threading.Lock()


def value_counts() -> dict[tuple, int]:
    """How many resources have each value of each walkable filter, and each (subject, grade), deleted
    ones included: only to choose the index a filtered list walks, so up to ten minutes old. One
    request in ten minutes per process reads them again (five index scans, ~65 ms at 200,000
    resources); the others meanwhile take the previous counts."""
    global _value_counts
    at, counts = _value_counts
    if time.monotonic() - at < VALUE_COUNTS_SECONDS or not _counting.acquire(blocking=not counts):
        return counts
    try:
        if _value_counts[0] != at:  # counted while this request waited
            return _value_counts[1]
        fresh: dict[tuple, int] = {}
        for names in (*((name,) for name in WALKABLE), PAIR):
            columns = [getattr(Resource, name) for name in names]
            for *values, n in plain_rows(select(*columns, func.count()).group_by(*columns), {}):
                fresh[(names, *values)] = n
        _value_counts = (time.monotonic(), fresh)
        return fresh
    finally:
        _counting.release()


def walked_filters(filters: dict) -> tuple[str, ...] | None:
    """On SQLite, the filters a list should find its rows by: the rarest value's index (or the
    subject-and-grade one); the other filters are then only checked on those rows. SQLite keeps no
    statistics per value: given an edition most resources have and a stage none has, it walked
    the edition's 100,000 rows newest first to fill a page that stays empty (220 ms). None: let
    the database choose (PostgreSQL knows its frequent values; one filter or none; a person's own)."""
    names = [name for name in filters if name in WALKABLE]
    if len(names) < 2 or "owner_id" in filters or db.session.get_bind().dialect.name != "sqlite":
        return None
    counts = value_counts()
    if not counts:
        return None
    options = {(name,): counts.get(((name,), filters[name]), 0) for name in names}
    if all(name in filters for name in PAIR):
        options[PAIR] = counts.get((PAIR, filters["subject"], filters["grade"]), 0)
    return min(options, key=lambda walked: (options[walked], -len(walked)))


def filter_terms(names, walked: tuple[str, ...] | None) -> list:
    """``column = :name`` for each filter; those not ``walked`` as an expression no index serves
    (``+ 0``, ``|| ''``: SQLite's way of pointing a query at another index)."""
    terms = []
    for name in names:
        column = getattr(Resource, name)
        if walked is not None and name not in walked:
            column = column.op("+")(literal_column("0")) if column.type.python_type is int \
                else column.op("||")(literal_column("''"))
        terms.append(column == bindparam(name))
    return terms
