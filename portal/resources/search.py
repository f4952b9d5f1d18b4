"""Search over resources that works on Chinese text: a query finds its characters anywhere
inside titles, descriptions and tags (no word segmentation needed).

One service, two backends (the indexes are in ``search_ddl``):

- SQLite: ``resources_fts`` (FTS5, trigram tokenizer) with ``MATCH``. Every term is one quoted
  FTS5 string, so no user input is ever FTS syntax. A query of three or more characters is one
  phrase. A query of one or two characters (most Chinese words have two) cannot be a trigram:
  it becomes the OR of the indexed trigrams that start with it, read from ``resources_fts_vocab``
  (one small extra query). ``search_text`` ends with two newlines, so every character of the
  text starts a trigram and nothing at the end is missed. At 200,000 resources this answers a
  two-character query in milliseconds where ``LIKE`` on ``search_text`` reads every row (about
  100 ms per scan, twice per page with the count; ``LIKE`` on ``resources_fts`` with fewer than
  three characters finds nothing at all in SQLite 3.40). Relevance: title matches first, then
  newest, as on PostgreSQL (FTS5's bm25 ``rank`` is not used: it is computed for every match
  before the page is cut, 6 ms for 1,600 matches of a two-character query at 200,000 resources,
  and trigram scores add little to "title first").
- PostgreSQL: ``search_text LIKE '%q%'`` served by the pg_trgm GIN index for three or more
  characters (about 1 ms at 200,000 resources against 100 ms for a scan); two characters by the
  index of character pairs (``portal_bigrams``); one character uses ``strpos`` on the column, a
  plain scan. Relevance: title matches first, then newest.

``%``, ``_`` and the escape character are always escaped in LIKE patterns.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    ARRAY,
    Select,
    String,
    Text,
    bindparam,
    cast,
    column,
    false,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import array

from ..core.sanitize import LIKE_ESCAPE, like_text, strip_controls
from ..extensions import db
from . import search_ddl  # noqa: F401  (registers the index DDL with the table)
from .models import Resource

MAX_QUERY = 50
TRIGRAM = 3  # the shortest query a trigram index answers directly
MAX_TERMS = 2000  # a short query starting more distinct trigrams than this reads the column instead
TERMINATOR = "\n\n"  # never in a query (whitespace is collapsed to single spaces)

_fts = table(search_ddl.FTS_TABLE, column("rowid"))
_vocab = table(search_ddl.FTS_TABLE + "_vocab", column("term"))


def normalise_query(q: str | None) -> str:
    """The text to look for: controls and surrounding space removed, lower-cased, bounded."""
    return " ".join(strip_controls(q or "").lower().split())[:MAX_QUERY].strip()


def search_text_of(title: str, description: str, tags: str) -> str:
    """What ``Resource.search_text`` holds for these fields: lower-cased, one per line, and two
    newlines at the end so that every character starts a trigram."""
    return "\n".join(part for part in (title, description, tags) if part).lower() + TERMINATOR


def fts_phrase(q: str) -> str:
    """``q`` as one FTS5 string: whatever it holds (quotes, *, NEAR, AND, parentheses) is text."""
    return '"' + q.replace('"', '""') + '"'


# Built once, values bound per search: building a statement and its cache key on every search
# cost more than running it.
_VOCAB = (select(_vocab.c.term).where(_vocab.c.term >= bindparam("lo"), _vocab.c.term < bindparam("hi"))
          .limit(bindparam("most")))


def _fts_query(q: str) -> str | None:
    """The FTS5 query for ``q``: one phrase, or for a short ``q`` the OR of the trigrams it
    starts ("" when none exists: nothing matches); None when there are too many of them."""
    if len(q) >= TRIGRAM:
        return fts_phrase(q)
    terms = [term for term in db.session.execute(
        _VOCAB, {"lo": q, "hi": q + "\U0010ffff", "most": MAX_TERMS + 1}
    ).scalars() if term.startswith(q)]
    if len(terms) > MAX_TERMS:
        return None
    return " OR ".join(fts_phrase(term) for term in terms)


def search_of(q: str) -> tuple[str, dict]:
    """How the normalised query ``q`` is looked for on this database (the key of
    ``search_clause``) and the values of its bind parameters. "all": no query."""
    if not q:
        return "all", {}
    values = {"search_title": like_text(q)}
    if db.session.get_bind().dialect.name == "sqlite":
        query = _fts_query(q)
        if query == "":
            return "nothing", {}
        if query is not None:
            return "fts", {**values, "search_fts": query}
        return "scan", {**values, "search_text": like_text(q)}
    if len(q) >= TRIGRAM:
        return "like", {**values, "search_text": like_text(q)}
    return ("pairs" if len(q) == TRIGRAM - 1 else "strpos"), {**values, "search_q": q}


@cache  # one per way of searching (search_of)
def search_clause(how: str):
    """The WHERE clause matching a query looked for as ``how``, its values as bind parameters."""
    if how == "nothing":
        return false()
    if how == "fts":
        match = literal_column(search_ddl.FTS_TABLE).op("MATCH")(bindparam("search_fts", type_=String))
        return Resource.id.in_(select(_fts.c.rowid).where(match))
    if how == "scan":
        # Too common to list its trigrams: read the column once, as a rowid list, so the
        # visibility rule only meets the matches (SQLite evaluates WHERE terms in order).
        return Resource.id.in_(select(Resource.id).where(
            Resource.search_text.contains(bindparam("search_text"), escape=LIKE_ESCAPE)))
    if how == "like":
        return Resource.search_text.contains(bindparam("search_text"), escape=LIKE_ESCAPE)
    if how == "pairs":
        # The character-pair index (search_ddl): the expression as the index has it.
        pairs = func.portal_bigrams(Resource.search_text, type_=ARRAY(Text))
        return pairs.op("@>")(cast(array([bindparam("search_q", type_=String)]), ARRAY(Text)))
    # "strpos", not LIKE: for a pattern without a trigram, PostgreSQL would read the whole GIN
    # index and recheck every row (3x slower than this plain scan at 200,000 resources).
    return func.strpos(Resource.search_text, bindparam("search_q", type_=String)) > 0


def search_order(how: str, order: str = "relevance", rows=Resource) -> tuple:
    """The ORDER BY of a search looked for as ``how``: by relevance (title matches first, then
    newest) or by date (newest first). Without a query, or when nothing can match: newest first.
    ``rows``: what has the columns, Resource or the ``.c`` of a subquery of it."""
    newest = (rows.created_at.desc(), rows.id.desc())
    if order == "date" or how in ("all", "nothing"):
        return newest
    return (title_match(rows).desc(), *newest)


def title_match(rows=Resource):
    """Whether the title holds the query (relevance's first key): the ``search_title`` value of ``search_of``."""
    return rows.title.icontains(bindparam("search_title"), escape=LIKE_ESCAPE)


def apply_search(stmt: Select, q: str, order: str = "relevance") -> Select:
    """Narrow ``stmt`` (a select of Resource, already carrying the visibility filter and the
    other filters) to the resources matching ``q``, ordered by relevance (title matches first,
    then newest) or by date (newest first). Without a query: newest first.
    The result stays a plain select, so ``paginate`` can count it and add limit/offset."""
    how, values = search_of(normalise_query(q))
    if how != "all":
        stmt = stmt.where(search_clause(how))
    return stmt.order_by(*search_order(how, order)).params(values)
