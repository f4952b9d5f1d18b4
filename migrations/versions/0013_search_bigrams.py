"""resource search on PostgreSQL: an index of each text's character pairs for two-character queries

Revision ID: 3b9d2e7c41f0
Revises: ae0ad6116d9f
Create Date: 2026-11-30 19:40:00.000000

Most Chinese words have two characters, which the pg_trgm index cannot serve (a city's search read
all 200,000 resources: 170 ms). The statements are those of portal/resources/search_ddl.py (which
builds the same objects for ``db.create_all()``), copied here so this revision stays as it was
written. SQLite answers two characters from its FTS5 vocabulary already: nothing to do there.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b9d2e7c41f0'
down_revision = 'ae0ad6116d9f'
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    "CREATE OR REPLACE FUNCTION portal_bigrams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}') FROM generate_series(1, char_length(t) - 1) AS i $$",
    "CREATE INDEX IF NOT EXISTS ix_resources_search_bigrams ON resources USING gin (portal_bigrams(search_text))",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_resources_search_bigrams",
    "DROP FUNCTION IF EXISTS portal_bigrams(text)",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
