"""resource lists filtered by subject, stage or grade: indexes that give them newest first

A list without a query is read newest first until its page is full. With a subject (or a stage and
grade) and no index ordered by date under it, SQLite read every resource of that subject and sorted
them all (200,000 resources: 20-60 ms a list; docs/query-plans.md, "Filtered resource lists"). A
grade names its stage, so (subject, grade) serves a list narrowed to all three, and counting a
subject and grade reads only theirs. A value few resources have (a stage no school of the city
teaches, an edition it does not use) made the list walk every resource looking for a page of
them: 280-490 ms for the senior stage at 200,000 resources, none of them senior. Every filter
has its index ordered by date now.

Revision ID: 8f3a61c2d9b4
Revises: 5c1e8a0d2f47
Create Date: 2026-12-01 20:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8f3a61c2d9b4'
down_revision = '5c1e8a0d2f47'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index operations (no batch): on SQLite a batch would copy the table, and its triggers
    # (full-text search, the search generation) would not come along.
    op.drop_index('ix_resources_subject_stage', table_name='resources')
    op.create_index('ix_resources_subject_created', 'resources', ['subject', 'created_at'])
    op.create_index('ix_resources_subject_grade_created', 'resources', ['subject', 'grade', 'created_at'])
    op.create_index('ix_resources_grade_created', 'resources', ['grade', 'created_at'])
    op.create_index('ix_resources_stage_created', 'resources', ['stage', 'created_at'])
    op.create_index('ix_resources_kind_created', 'resources', ['kind', 'created_at'])
    op.create_index('ix_resources_edition_created', 'resources', ['edition', 'created_at'])
    if op.get_bind().dialect.name == "sqlite":
        # Statistics for the new indexes (see 0012): without them SQLite may keep choosing a plan
        # that sorts every row of a subject.
        op.execute("ANALYZE resources")


def downgrade():
    op.drop_index('ix_resources_edition_created', table_name='resources')
    op.drop_index('ix_resources_kind_created', table_name='resources')
    op.drop_index('ix_resources_stage_created', table_name='resources')
    op.drop_index('ix_resources_grade_created', table_name='resources')
    op.drop_index('ix_resources_subject_grade_created', table_name='resources')
    op.drop_index('ix_resources_subject_created', table_name='resources')
    op.create_index('ix_resources_subject_stage', 'resources', ['subject', 'stage', 'grade'])
