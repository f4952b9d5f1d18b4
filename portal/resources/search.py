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

from sqlalchemy import ARRAY, Select, Text, cast, column, false, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import array

from ..core.sanitize import strip_controls
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


def _newest(stmt: Select) -> Select:
    return stmt.order_by(Resource.created_at.desc(), Resource.id.desc())


def _fts_query(q: str) -> str | None:
    """The FTS5 query for ``q``: one phrase, or for a short ``q`` the OR of the trigrams it
    starts ("" when none exists: nothing matches); None when there are too many of them."""
    if len(q) >= TRIGRAM:
        return fts_phrase(q)
    terms = [term for term in db.session.execute(
        select(_vocab.c.term).where(_vocab.c.term >= q, _vocab.c.term < q + "\U0010ffff").limit(MAX_TERMS + 1)
    ).scalars() if term.startswith(q)]
    if len(terms) > MAX_TERMS:
        return None
    return " OR ".join(fts_phrase(term) for term in terms)


def apply_search(stmt: Select, q: str, order: str = "relevance") -> Select:
    """Narrow ``stmt`` (a select of Resource, already carrying the visibility filter and the
    other filters) to the resources matching ``q``, ordered by relevance (title matches first,
    then newest) or by date (newest first). Without a query: newest first.
    The result stays a plain select, so ``paginate`` can count it and add limit/offset."""
    q = normalise_query(q)
    if not q:
        return _newest(stmt)
    relevance = order != "date"
    title_match = Resource.title.icontains(q, autoescape=True)
    if db.session.get_bind().dialect.name == "sqlite":
        query = _fts_query(q)
        if query == "":
            return _newest(stmt.where(false()))
        if query is not None:
            match = literal_column(search_ddl.FTS_TABLE).op("MATCH")(query)
            stmt = stmt.where(Resource.id.in_(select(_fts.c.rowid).where(match)))
        else:
            # Too common to list its trigrams: read the column once, as a rowid list, so the
            # visibility rule only meets the matches (SQLite evaluates WHERE terms in order).
            stmt = stmt.where(Resource.id.in_(select(Resource.id).where(
                Resource.search_text.contains(q, autoescape=True))))
    elif len(q) >= TRIGRAM:
        stmt = stmt.where(Resource.search_text.contains(q, autoescape=True))
    elif len(q) == TRIGRAM - 1:
        # The character-pair index (search_ddl): the expression as the index has it.
        pairs = func.portal_bigrams(Resource.search_text, type_=ARRAY(Text))
        stmt = stmt.where(pairs.op("@>")(cast(array([q]), ARRAY(Text))))
    else:
        # Not LIKE: for a pattern without a trigram, PostgreSQL would read the whole GIN index
        # and recheck every row (3x slower than this plain scan at 200,000 resources).
        stmt = stmt.where(func.strpos(Resource.search_text, q) > 0)
    if relevance:
        stmt = stmt.order_by(title_match.desc())
    return _newest(stmt)
