"""teacher exchanges: the list's index, newest first

Placements mostly begin on a term's first day. The list (newest start first, then the newest
record) walked ``ix_teacher_exchanges_dates (start_date, end_date)``, whose entries of one day are
in end-date order, so the thousands of a term's first day were joined to their teachers and
schools and sorted for every page (a city: 4,600 placements, 12-18 ms). ``(start_date)`` ends with
the row id, the list's own order: the page is read and the walk stops.

Revision ID: 2b7e94c0a1d5
Revises: 8f3a61c2d9b4
Create Date: 2026-12-01 20:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '2b7e94c0a1d5'
down_revision = '8f3a61c2d9b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_teacher_exchanges_start', 'teacher_exchanges', ['start_date'])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE teacher_exchanges")  # see 0012: an index without statistics may lose its plan


def downgrade():
    op.drop_index('ix_teacher_exchanges_start', table_name='teacher_exchanges')
