"""The search indexes over ``resources.search_text``, as DDL shared by the migration and by
``db.create_all()`` (the test suite), so both build the same thing.

SQLite: ``resources_fts``, an external-content FTS5 table with the trigram tokenizer (it stores
only the index; the text stays in ``resources``), kept in step by three triggers. The update
trigger fires only when ``search_text`` is assigned, so counter updates cost nothing.
``resources_fts_vocab`` (fts5vocab, no storage of its own) lists the index's trigrams: queries
of one or two characters are answered from it (see ``search.py``).

PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on ``search_text``; the search
uses ``LIKE '%q%'``, which this index serves for queries of three or more characters. Most
Chinese words have two characters, which no trigram index can serve: a second GIN index holds
each text's distinct character pairs (``portal_bigrams(search_text)``, an immutable SQL function)
and a two-character query is ``portal_bigrams(search_text) @> ARRAY[q]`` (200,000 resources: a
scan of 170 ms down to 18 ms; the index is about as large as the trigram one, 22 MB).

pg_trgm and Chinese: pg_trgm keeps only the characters the database's LC_CTYPE calls
alphanumeric. In a ``C`` / ``POSIX`` locale that is ASCII only: ``show_trgm('分数的意义')`` is
empty, the index cannot narrow a Chinese LIKE and every search reads the whole table (still
correct, only slower). With ``C.UTF-8`` (the PostgreSQL 15 / Debian 12 server used here, checked
both ways) or a UTF-8 language locale, CJK characters are letters and the index works: a
four-character Chinese query takes about 1 ms at 200,000 resources against about 100 ms for a
scan. Check a server with ``SELECT show_trgm('分数的意义')``; if it is empty, create the database
with ``LC_CTYPE`` = ``C.UTF-8`` (or zh_CN.UTF-8). On PostgreSQL, queries of one or two characters
cannot use a trigram index: two use the character pairs, one reads the column (see ``search.py``).
The pairs do not depend on the locale.

The generation of searches' matches (``resource_search_state``, read by ``search_memory``):
triggers on ``resources`` (inserts, deletes, updates of the columns a search's matches hold) and
on ``resource_audiences`` give it a new random number, in the writing transaction itself.

``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may create it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import DDL, event, text

from .models import Resource, ResourceAudience

FTS_TABLE = "resources_fts"
TRGM_INDEX = "ix_resources_search_trgm"
BIGRAM_INDEX = "ix_resources_search_bigrams"

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS resources_fts USING fts5("
    "search_text, content='resources', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_ai AFTER INSERT ON resources BEGIN "
    "INSERT INTO resources_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_ad AFTER DELETE ON resources BEGIN "
    "INSERT INTO resources_fts(resources_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_au AFTER UPDATE OF search_text ON resources BEGIN "
    "INSERT INTO resources_fts(resources_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO resources_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    # The index's distinct trigrams: a query of one or two characters becomes the trigrams it starts.
    "CREATE VIRTUAL TABLE IF NOT EXISTS resources_fts_vocab USING fts5vocab(resources_fts, 'row')",
]
SQLITE_REBUILD = "INSERT INTO resources_fts(resources_fts) VALUES ('rebuild')"
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS resources_fts_ai",
    "DROP TRIGGER IF EXISTS resources_fts_ad",
    "DROP TRIGGER IF EXISTS resources_fts_au",
    "DROP TABLE IF EXISTS resources_fts_vocab",
    "DROP TABLE IF EXISTS resources_fts",
]
POSTGRESQL_BIGRAMS = (
    "CREATE OR REPLACE FUNCTION portal_bigrams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}') FROM generate_series(1, char_length(t) - 1) AS i $$"
)
POSTGRESQL_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_resources_search_trgm ON resources USING gin (search_text gin_trgm_ops)",
    POSTGRESQL_BIGRAMS,
    "CREATE INDEX IF NOT EXISTS ix_resources_search_bigrams ON resources USING gin (portal_bigrams(search_text))",
]
# The indexes only: the function stays for the index built again after a bulk load.
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS ix_resources_search_trgm", "DROP INDEX IF EXISTS ix_resources_search_bigrams"]


# The generation of ``resource_search_state`` (search_memory): a new random number on every write
# to what a search's matches hold. Random, not a counter: a rolled-back write must never leave a
# number that a later, different write takes again. Updates of counters (views, downloads,
# ratings) and of the current version do not name these columns and change nothing.
GENERATION_COLUMNS = ("title", "search_text", "created_at", "deleted_at", "visibility", "owner_id", "county_id",
                      "subject", "stage", "grade", "kind", "edition")
_SQLITE_BUMP = ("INSERT INTO resource_search_state (id, generation) VALUES (1, random()) "
                "ON CONFLICT (id) DO UPDATE SET generation = excluded.generation")
GENERATION_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_ai AFTER INSERT ON resources BEGIN {_SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_ad AFTER DELETE ON resources BEGIN {_SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_au AFTER UPDATE OF {', '.join(GENERATION_COLUMNS)} "
    f"ON resources BEGIN {_SQLITE_BUMP}; END",
]
GENERATION_SQLITE_AUDIENCES = [
    f"CREATE TRIGGER IF NOT EXISTS resource_audiences_generation_{name} AFTER {event} ON resource_audiences "
    f"BEGIN {_SQLITE_BUMP}; END"
    for name, event in (("ai", "INSERT"), ("ad", "DELETE"), ("au", "UPDATE"))
]
# PostgreSQL: once per statement, not per row (a bulk load changes it once).
GENERATION_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION portal_resource_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO resource_search_state (id, generation) VALUES (1, (random() * 9.0e18 - 4.5e18)::bigint) "
    "ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation; RETURN NULL; END $$",
    "CREATE TRIGGER resources_generation AFTER INSERT OR DELETE OR UPDATE OF "
    f"{', '.join(GENERATION_COLUMNS)} ON resources FOR EACH STATEMENT EXECUTE FUNCTION portal_resource_search_changed()",
]
GENERATION_POSTGRESQL_AUDIENCES = [
    "CREATE TRIGGER resource_audiences_generation AFTER INSERT OR DELETE OR UPDATE ON resource_audiences "
    "FOR EACH STATEMENT EXECUTE FUNCTION portal_resource_search_changed()",
]


def create_statements(dialect: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE + [SQLITE_REBUILD], "postgresql": POSTGRESQL_CREATE}.get(dialect, [])


def drop_statements(dialect: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(dialect, [])


def alembic_include_name(name, type_, parent_names) -> bool:
    """For Alembic's autogenerate (``include_name``): the search objects are built by hand in
    migrations 0006 and 0013, not described by the models; comparing must not propose dropping them."""
    if type_ == "table":
        return not (name == FTS_TABLE or (name or "").startswith(FTS_TABLE + "_"))
    if type_ == "index":
        return name not in (TRGM_INDEX, BIGRAM_INDEX)
    return True


@contextmanager
def search_index_deferred(session) -> Iterator[None]:
    """For bulk loads (``seed scale``): build the index once after the rows are in, instead of
    once per row. SQLite: the insert trigger is dropped, then the FTS table rebuilt;
    PostgreSQL: the GIN index is dropped, then created again."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(text(SQLITE_DROP[0]))  # the insert trigger
        yield
        session.execute(text(SQLITE_CREATE[1]))
        session.execute(text(SQLITE_REBUILD))
    elif dialect == "postgresql":
        for statement in POSTGRESQL_DROP:
            session.execute(text(statement))
        yield
        for statement in POSTGRESQL_CREATE:
            session.execute(text(statement))
    else:
        yield


for _statement in SQLITE_CREATE:
    event.listen(Resource.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_CREATE:
    event.listen(Resource.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _table, _by_dialect in ((Resource.__table__, {"sqlite": GENERATION_SQLITE, "postgresql": GENERATION_POSTGRESQL}),
                            (ResourceAudience.__table__, {"sqlite": GENERATION_SQLITE_AUDIENCES,
                                                          "postgresql": GENERATION_POSTGRESQL_AUDIENCES})):
    for _dialect, _statements in _by_dialect.items():
        for _statement in _statements:
            event.listen(_table, "after_create", DDL(_statement).execute_if(dialect=_dialect))
for _statement in SQLITE_DROP:
    event.listen(Resource.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
