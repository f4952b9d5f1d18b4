"""observations: records, rubrics, amendments, action steps, quota rules

Revision ID: b9d42e1f6a13
Revises: a8c31f0e5d02
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

import portal.core.models


# revision identifiers, used by Alembic.
revision = 'b9d42e1f6a13'
down_revision = 'a8c31f0e5d02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quota_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=12), nullable=False),
    sa.Column('required', sa.SmallInteger(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('max_periods_per_record', sa.SmallInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint("period IN ('school_year', 'semester')", name=op.f('ck_quota_rules_period')),
    sa.CheckConstraint("role IN ('principal', 'researcher', 'teacher')", name=op.f('ck_quota_rules_role')),
    sa.CheckConstraint('max_periods_per_record IS NULL OR max_periods_per_record BETWEEN 1 AND 4', name=op.f('ck_quota_rules_max_periods_per_record')),
    sa.CheckConstraint('required BETWEEN 1 AND 500', name=op.f('ck_quota_rules_required')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_quota_rules_county_id_counties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_quota_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_rules'))
    )
    with op.batch_alter_table('quota_rules', schema=None) as batch_op:
        batch_op.create_index('ix_quota_rules_role_active_county', ['role', 'active', 'county_id'], unique=False)
    op.create_table('rubric_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_rubric_templates_version')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rubric_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_templates')),
    sa.UniqueConstraint('family', 'version', name=op.f('uq_rubric_templates_family_version'))
    )
    with op.batch_alter_table('rubric_templates', schema=None) as batch_op:
        batch_op.create_index('ix_rubric_templates_family_current', ['family', 'is_current'], unique=False)
    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observer_id', sa.Integer(), nullable=False),
    sa.Column('observed_teacher_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('periods', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('finalized_at', portal.core.models.UTCDateTime(), nullable=True),
    sa.Column('live_session_id', sa.Integer(), nullable=True),
    sa.Column('rubric_template_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('grade', sa.String(length=10), nullable=True),
    sa.Column('record_html', sa.Text(), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('suggestions', sa.Text(), nullable=False),
    sa.Column('private_notes', sa.Text(), nullable=False),
    sa.Column('acknowledged_at', portal.core.models.UTCDateTime(), nullable=True),
    sa.Column('teacher_reply', sa.Text(), nullable=False),
    sa.Column('replied_at', portal.core.models.UTCDateTime(), nullable=True),
    sa.Column('client_key', sa.String(length=40), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint("grade IS NULL OR grade IN ('excellent', 'good', 'fair', 'poor')", name=op.f('ck_observations_grade')),
    sa.CheckConstraint("kind IN ('drop_in', 'open', 'standard', 'demonstration', 'live', 'recording')", name=op.f('ck_observations_kind')),
    sa.CheckConstraint("status IN ('draft', 'final')", name=op.f('ck_observations_status')),
    sa.CheckConstraint('periods BETWEEN 1 AND 4', name=op.f('ck_observations_periods')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], name=op.f('fk_observations_classroom_id_classrooms')),
    sa.ForeignKeyConstraint(['live_session_id'], ['live_sessions.id'], name=op.f('fk_observations_live_session_id_live_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['observed_teacher_id'], ['users.id'], name=op.f('fk_observations_observed_teacher_id_users')),
    sa.ForeignKeyConstraint(['observer_id'], ['users.id'], name=op.f('fk_observations_observer_id_users')),
    sa.ForeignKeyConstraint(['rubric_template_id'], ['rubric_templates.id'], name=op.f('fk_observations_rubric_template_id_rubric_templates')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_observations_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations')),
    sa.UniqueConstraint('observer_id', 'client_key', name=op.f('uq_observations_observer_id_client_key'))
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observations_classroom_id'), ['classroom_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_live_session_id'), ['live_session_id'], unique=False)
        batch_op.create_index('ix_observations_observer_status_date', ['observer_id', 'status', 'observed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_rubric_template_id'), ['rubric_template_id'], unique=False)
        batch_op.create_index('ix_observations_school_date', ['school_id', 'observed_on'], unique=False)
        batch_op.create_index('ix_observations_teacher_date', ['observed_teacher_id', 'observed_on'], unique=False)
    op.create_table('observation_action_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('checked_in_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', portal.core.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'met', 'not_yet')", name=op.f('ck_observation_action_steps_status')),
    sa.ForeignKeyConstraint(['checked_in_id'], ['observations.id'], name=op.f('fk_observation_action_steps_checked_in_id_observations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_observation_action_steps_observation_id_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_observation_action_steps_teacher_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_action_steps'))
    )
    with op.batch_alter_table('observation_action_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_action_steps_checked_in_id'), ['checked_in_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_action_steps_observation_id'), ['observation_id'], unique=False)
        batch_op.create_index('ix_observation_action_steps_teacher_status', ['teacher_id', 'status'], unique=False)
    op.create_table('observation_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_observation_amendments_observation_id_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_observation_amendments_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_amendments'))
    )
    with op.batch_alter_table('observation_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_amendments_observation_id'), ['observation_id'], unique=False)
    op.create_table('observation_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=120), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_observation_attachments_observation_id_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_observation_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_attachments'))
    )
    with op.batch_alter_table('observation_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_attachments_observation_id'), ['observation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('observation_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_attachments_observation_id'))
    op.drop_table('observation_attachments')
    with op.batch_alter_table('observation_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_amendments_observation_id'))
    op.drop_table('observation_amendments')
    with op.batch_alter_table('observation_action_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_action_steps_teacher_status')
        batch_op.drop_index(batch_op.f('ix_observation_action_steps_observation_id'))
        batch_op.drop_index(batch_op.f('ix_observation_action_steps_checked_in_id'))
    op.drop_table('observation_action_steps')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index('ix_observations_teacher_date')
        batch_op.drop_index('ix_observations_school_date')
        batch_op.drop_index(batch_op.f('ix_observations_rubric_template_id'))
        batch_op.drop_index('ix_observations_observer_status_date')
        batch_op.drop_index(batch_op.f('ix_observations_live_session_id'))
        batch_op.drop_index(batch_op.f('ix_observations_classroom_id'))
    op.drop_table('observations')
    with op.batch_alter_table('rubric_templates', schema=None) as batch_op:
        batch_op.drop_index('ix_rubric_templates_family_current')
    op.drop_table('rubric_templates')
    with op.batch_alter_table('quota_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_quota_rules_role_active_county')
    op.drop_table('quota_rules')
