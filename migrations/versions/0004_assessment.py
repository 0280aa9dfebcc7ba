"""Assessment: assessors, conflicts, marks, moderation, decisions

Revision ID: 0004_assessment
Revises: 0003_proposals
Create Date: 2026-12-01 18:25:33.356415
"""

from alembic import op
import sqlalchemy as sa
import procure.db


revision = '0004_assessment'
down_revision = '0003_proposals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessor_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invited_email', sa.String(length=254), nullable=False),
    sa.Column('invited_name', sa.String(length=200), nullable=False),
    sa.Column('is_independent', sa.Boolean(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('appointed_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointed_by_id'], ['users.id'], name=op.f('fk_assessor_appointments_appointed_by_id_users')),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_assessor_appointments_phase_id_phases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assessor_appointments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessor_appointments')),
    sa.UniqueConstraint('phase_id', 'user_id', name=op.f('uq_assessor_appointments_phase_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_assessor_appointments_token_hash'))
    )
    with op.batch_alter_table('assessor_appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessor_appointments_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessor_appointments_user_id'), ['user_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('selected_ids', sa.JSON(), nullable=False),
    sa.Column('default_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('statistics', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('released_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_decisions_phase_id_phases')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_decisions_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_decisions_released_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('phase_id', name=op.f('uq_decisions_phase_id'))
    )
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['assessor_appointments.id'], name=op.f('fk_assessments_appointment_id_assessor_appointments')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_assessments_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('appointment_id', 'proposal_id', name=op.f('uq_assessments_appointment_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('conflict_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('conflicted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['assessor_appointments.id'], name=op.f('fk_conflict_declarations_appointment_id_assessor_appointments')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_conflict_declarations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
    sa.UniqueConstraint('appointment_id', 'organisation_id', name=op.f('uq_conflict_declarations_appointment_id'))
    )
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declarations_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('decision_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('approved_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_decision_approvals_approved_by_id_users')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_approvals_decision_id_decisions')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_decision_approvals_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_approvals')),
    sa.UniqueConstraint('decision_id', 'organisation_id', name=op.f('uq_decision_approvals_decision_id'))
    )
    with op.batch_alter_table('decision_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_approvals_decision_id'), ['decision_id'], unique=False)

    op.create_table('moderations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('phase_criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=4, scale=2), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('moderated_by_id', sa.Integer(), nullable=False),
    sa.Column('moderated_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_moderations_moderated_by_id_users')),
    sa.ForeignKeyConstraint(['phase_criterion_id'], ['phase_criteria.id'], name=op.f('fk_moderations_phase_criterion_id_phase_criteria')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_moderations_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderations')),
    sa.UniqueConstraint('proposal_id', 'phase_criterion_id', name=op.f('uq_moderations_proposal_id'))
    )
    with op.batch_alter_table('moderations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderations_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('assessment_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('phase_criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_marks_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['phase_criterion_id'], ['phase_criteria.id'], name=op.f('fk_assessment_marks_phase_criterion_id_phase_criteria')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_marks')),
    sa.UniqueConstraint('assessment_id', 'phase_criterion_id', name=op.f('uq_assessment_marks_assessment_id'))
    )
    with op.batch_alter_table('assessment_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_marks_assessment_id'), ['assessment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assessment_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_marks_assessment_id'))

    op.drop_table('assessment_marks')
    with op.batch_alter_table('moderations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderations_proposal_id'))

    op.drop_table('moderations')
    with op.batch_alter_table('decision_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_approvals_decision_id'))

    op.drop_table('decision_approvals')
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declarations_appointment_id'))

    op.drop_table('conflict_declarations')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_appointment_id'))

    op.drop_table('assessments')
    op.drop_table('decisions')
    with op.batch_alter_table('assessor_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessor_appointments_user_id'))
        batch_op.drop_index(batch_op.f('ix_assessor_appointments_phase_id'))

    op.drop_table('assessor_appointments')
