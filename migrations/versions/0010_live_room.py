"""live room: timeline, room state, connections

Revision ID: c0e53f2a7b24
Revises: b9d42e1f6a13
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

import portal.core.models


# revision identifiers, used by Alembic.
revision = 'c0e53f2a7b24'
down_revision = 'b9d42e1f6a13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('connected_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_connections_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_live_connections_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_connections')),
    sa.UniqueConstraint('sid', name=op.f('uq_live_connections_sid'))
    )
    with op.batch_alter_table('live_connections', schema=None) as batch_op:
        batch_op.create_index('ix_live_connections_session_seen', ['session_id', 'last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_connections_user_id'), ['user_id'], unique=False)
    op.create_table('live_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('cid', sa.String(length=64), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], name=op.f('fk_live_events_classroom_id_classrooms')),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_events_session_id_live_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_live_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_events')),
    sa.UniqueConstraint('session_id', 'seq', name=op.f('uq_live_events_session_id_seq')),
    sa.UniqueConstraint('session_id', 'user_id', 'cid', name=op.f('uq_live_events_session_id_user_id_cid'))
    )
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.create_index('ix_live_events_session_kind', ['session_id', 'kind', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_events_user_id'), ['user_id'], unique=False)
    op.create_table('live_room_states',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['live_sessions.id'], name=op.f('fk_live_room_states_session_id_live_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_live_room_states'))
    )


def downgrade():
    op.drop_table('live_room_states')
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_events_user_id'))
        batch_op.drop_index('ix_live_events_session_kind')
    op.drop_table('live_events')
    with op.batch_alter_table('live_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_connections_user_id'))
        batch_op.drop_index('ix_live_connections_session_seen')
    op.drop_table('live_connections')
