"""resource search: the generation number that processes keep searches' matches under

Revision ID: 5c1e8a0d2f47
Revises: 3b9d2e7c41f0
Create Date: 2026-12-01 13:00:00.000000

A table of one row (``resource_search_state``) and the triggers that give it a new random number
on every write to what a search's matches hold: the statements of
portal/resources/search_ddl.py (which builds the same for ``db.create_all()``), copied here so this
revision stays as it was written.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c1e8a0d2f47'
down_revision = '3b9d2e7c41f0'
branch_labels = None
depends_on = None

COLUMNS = ("title, search_text, created_at, deleted_at, visibility, owner_id, county_id, subject, stage, grade, "
           "kind, edition")
SQLITE_BUMP = ("INSERT INTO resource_search_state (id, generation) VALUES (1, random()) "
               "ON CONFLICT (id) DO UPDATE SET generation = excluded.generation")
SQLITE_UP = [
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_ai AFTER INSERT ON resources BEGIN {SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_ad AFTER DELETE ON resources BEGIN {SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resources_generation_au AFTER UPDATE OF {COLUMNS} ON resources "
    f"BEGIN {SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resource_audiences_generation_ai AFTER INSERT ON resource_audiences "
    f"BEGIN {SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resource_audiences_generation_ad AFTER DELETE ON resource_audiences "
    f"BEGIN {SQLITE_BUMP}; END",
    f"CREATE TRIGGER IF NOT EXISTS resource_audiences_generation_au AFTER UPDATE ON resource_audiences "
    f"BEGIN {SQLITE_BUMP}; END",
    "INSERT INTO resource_search_state (id, generation) VALUES (1, random())",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {table}_generation_{name}"
    for table in ("resources", "resource_audiences") for name in ("ai", "ad", "au")
]
POSTGRESQL_UP = [
    "CREATE OR REPLACE FUNCTION portal_resource_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO resource_search_state (id, generation) VALUES (1, (random() * 9.0e18 - 4.5e18)::bigint) "
    "ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation; RETURN NULL; END $$",
    f"CREATE TRIGGER resources_generation AFTER INSERT OR DELETE OR UPDATE OF {COLUMNS} ON resources "
    "FOR EACH STATEMENT EXECUTE FUNCTION portal_resource_search_changed()",
    "CREATE TRIGGER resource_audiences_generation AFTER INSERT OR DELETE OR UPDATE ON resource_audiences "
    "FOR EACH STATEMENT EXECUTE FUNCTION portal_resource_search_changed()",
    "INSERT INTO resource_search_state (id, generation) VALUES (1, (random() * 9.0e18 - 4.5e18)::bigint)",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS resources_generation ON resources",
    "DROP TRIGGER IF EXISTS resource_audiences_generation ON resource_audiences",
    "DROP FUNCTION IF EXISTS portal_resource_search_changed()",
]


def upgrade():
    op.create_table(
        'resource_search_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_search_state')),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_table('resource_search_state')
