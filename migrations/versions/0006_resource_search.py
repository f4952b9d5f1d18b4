"""resource search: SQLite FTS5 trigram table with its triggers, PostgreSQL pg_trgm GIN index

Revision ID: 5e4c1f0a7b21
Revises: aec9d366d938
Create Date: 2026-11-23 13:30:00.000000

The statements are those of portal/resources/search_ddl.py (which builds the same objects for
``db.create_all()``), copied here so this revision stays as it was written.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e4c1f0a7b21'
down_revision = 'aec9d366d938'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS resources_fts USING fts5("
    "search_text, content='resources', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_ai AFTER INSERT ON resources BEGIN "
    "INSERT INTO resources_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_ad AFTER DELETE ON resources BEGIN "
    "INSERT INTO resources_fts(resources_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS resources_fts_au AFTER UPDATE OF search_text ON resources BEGIN "
    "INSERT INTO resources_fts(resources_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO resources_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS resources_fts_vocab USING fts5vocab(resources_fts, 'row')",
    "INSERT INTO resources_fts(resources_fts) VALUES ('rebuild')",  # rows that exist already
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS resources_fts_ai",
    "DROP TRIGGER IF EXISTS resources_fts_ad",
    "DROP TRIGGER IF EXISTS resources_fts_au",
    "DROP TABLE IF EXISTS resources_fts_vocab",
    "DROP TABLE IF EXISTS resources_fts",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_resources_search_trgm ON resources USING gin (search_text gin_trgm_ops)",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_resources_search_trgm"]  # the extension may serve others


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    _run({"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, []))


def downgrade():
    dialect = op.get_bind().dialect.name
    _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []))
