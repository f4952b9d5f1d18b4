"""scheduling pages: attendance, class resources, series changes

Revision ID: a8c31f0e5d02
Revises: e2d049d02c60
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

import portal.core.models


# revision identifiers, used by Alembic.
revision = 'a8c31f0e5d02'
down_revision = 'e2d049d02c60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_class_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('live_class_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_live_class_resources_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['live_class_id'], ['live_classes.id'], name=op.f('fk_live_class_resources_live_class_id_live_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_live_class_resources_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_class_resources')),
    sa.UniqueConstraint('live_class_id', 'resource_id', name=op.f('uq_live_class_resources_live_class_id_resource_id'))
    )
    with op.batch_alter_table('live_class_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_class_resources_resource_id'), ['resource_id'], unique=False)
    op.create_table('live_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('class_size', sa.Integer(), nullable=False),
    sa.Column('feedback', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('class_size >= 1 AND present <= class_size', name=op.f('ck_live_attendance_class_size')),
    sa.CheckConstraint('present >= 0', name=op.f('ck_live_attendance_present')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], name=op.f('fk_live_attendance_classroom_id_classrooms')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_live_attendance_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_attendance_session_id_live_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_attendance')),
    sa.UniqueConstraint('session_id', 'classroom_id', name=op.f('uq_live_attendance_session_id_classroom_id'))
    )
    with op.batch_alter_table('live_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_attendance_classroom_id'), ['classroom_id'], unique=False)
    with op.batch_alter_table('live_classes', schema=None) as batch_op:
        batch_op.create_index('ix_live_classes_last_date', ['last_date'], unique=False)
        batch_op.create_index('ix_live_classes_subject_last_date', ['subject', 'last_date'], unique=False)
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_removed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.drop_column('series_removed')
    with op.batch_alter_table('live_classes', schema=None) as batch_op:
        batch_op.drop_index('ix_live_classes_subject_last_date')
        batch_op.drop_index('ix_live_classes_last_date')
    with op.batch_alter_table('live_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_attendance_classroom_id'))
    op.drop_table('live_attendance')
    with op.batch_alter_table('live_class_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_class_resources_resource_id'))
    op.drop_table('live_class_resources')
