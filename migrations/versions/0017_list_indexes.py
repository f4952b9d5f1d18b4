"""lists newest first: teacher exchanges and dual-teacher classes

Both lists are ordered by a start date that most rows share (a term's first day), and neither had
an index in that order: each page joined and sorted them all.

Teacher exchanges. Placements mostly begin on a term's first day. The list (newest start first, then the newest
record) walked ``ix_teacher_exchanges_dates (start_date, end_date)``, whose entries of one day are
in end-date order, so the thousands of a term's first day were joined to their teachers and
schools and sorted for every page (a city: 4,600 placements, 12-18 ms). ``(start_date, id)`` is the
list's own order: the page is read and the walk stops. (The id is named: SQLite ends every index
with the row id anyway, PostgreSQL does not, and sorted a whole day's placements by it.)

Dual-teacher classes (newest first date, then id). The current ones were found by
``ix_live_classes_last_date`` and all sorted (a city's 20,000 classes: 51 ms; all of them: 30 ms;
one subject's: 9 ms). ``(first_date, id)`` and ``(subject, first_date, id)``: 0.02-0.08 ms.

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
    op.create_index('ix_teacher_exchanges_start', 'teacher_exchanges', ['start_date', 'id'])
    op.create_index('ix_live_classes_first_date', 'live_classes', ['first_date', 'id'])
    op.create_index('ix_live_classes_subject_first_date', 'live_classes', ['subject', 'first_date', 'id'])
    if op.get_bind().dialect.name == "sqlite":
        # See 0012: an index without statistics may lose its plan.
        op.execute("ANALYZE teacher_exchanges")
        op.execute("ANALYZE live_classes")


def downgrade():
    op.drop_index('ix_live_classes_subject_first_date', table_name='live_classes')
    op.drop_index('ix_live_classes_first_date', table_name='live_classes')
    op.drop_index('ix_teacher_exchanges_start', table_name='teacher_exchanges')
