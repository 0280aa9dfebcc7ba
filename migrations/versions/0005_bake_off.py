"""Bake-off: entrants and contracts, measurement reports and evidence, award contracts, adoption check-ins

Revision ID: 0005_bake_off
Revises: 0004_assessment
Create Date: 2026-12-01 21:19:28.327933
"""

from alembic import op
import sqlalchemy as sa
import procure.db


revision = '0005_bake_off'
down_revision = '0004_assessment'
branch_labels = None
depends_on = None


# Amounts in pence up to the £1bn the forms accept do not fit a 4-byte integer.
_PENCE = (("challenge_funders", "pledge_pence", False), ("phases", "max_value_pence", True),
          ("proposals", "price_pence", True))


def upgrade() -> None:
    for table, column, nullable in _PENCE:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Integer(), type_=sa.BigInteger(),
                                  existing_nullable=nullable)
    op.create_table('adoption_check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('due_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('asked_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('in_use', sa.Boolean(), nullable=True),
    sa.Column('used_by', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('measure_values', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_adoption_check_ins_challenge_id_challenges')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_adoption_check_ins_decision_id_decisions')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_adoption_check_ins_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adoption_check_ins')),
    sa.UniqueConstraint('challenge_id', 'months', name=op.f('uq_adoption_check_ins_challenge_id'))
    )
    with op.batch_alter_table('adoption_check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adoption_check_ins_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adoption_check_ins_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('award_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('value_pence', sa.BigInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_award_contracts_decision_id_decisions')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_award_contracts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_award_contracts_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_award_contracts_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_contracts')),
    sa.UniqueConstraint('decision_id', 'proposal_id', name=op.f('uq_award_contracts_decision_id'))
    )
    with op.batch_alter_table('award_contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_contracts_decision_id'), ['decision_id'], unique=False)

    op.create_table('bake_off_entrants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('shortlisted_proposal_id', sa.Integer(), nullable=False),
    sa.Column('contract_value_pence', sa.BigInteger(), nullable=True),
    sa.Column('contract_starts_on', sa.Date(), nullable=True),
    sa.Column('contract_ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('invited_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_bake_off_entrants_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bake_off_entrants_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_bake_off_entrants_phase_id_phases')),
    sa.ForeignKeyConstraint(['shortlisted_proposal_id'], ['proposals.id'], name=op.f('fk_bake_off_entrants_shortlisted_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bake_off_entrants')),
    sa.UniqueConstraint('phase_id', 'organisation_id', name=op.f('uq_bake_off_entrants_phase_id'))
    )
    with op.batch_alter_table('bake_off_entrants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bake_off_entrants_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bake_off_entrants_phase_id'), ['phase_id'], unique=False)

    op.create_table('measurement_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('verified_value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=False),
    sa.Column('reported_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('verified_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entrant_id'], ['bake_off_entrants.id'], name=op.f('fk_measurement_reports_entrant_id_bake_off_entrants')),
    sa.ForeignKeyConstraint(['measure_id'], ['outcome_measures.id'], name=op.f('fk_measurement_reports_measure_id_outcome_measures')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_measurement_reports_reported_by_id_users')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_measurement_reports_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement_reports')),
    sa.UniqueConstraint('entrant_id', 'measure_id', name=op.f('uq_measurement_reports_entrant_id'))
    )
    with op.batch_alter_table('measurement_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_reports_entrant_id'), ['entrant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurement_reports_measure_id'), ['measure_id'], unique=False)

    op.create_table('measurement_evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['measurement_reports.id'], name=op.f('fk_measurement_evidence_files_report_id_measurement_reports')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_measurement_evidence_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement_evidence_files')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_measurement_evidence_files_stored_name'))
    )
    with op.batch_alter_table('measurement_evidence_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_evidence_files_report_id'), ['report_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    for table, column, nullable in _PENCE:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.BigInteger(), type_=sa.Integer(),
                                  existing_nullable=nullable)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('measurement_evidence_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurement_evidence_files_report_id'))

    op.drop_table('measurement_evidence_files')
    with op.batch_alter_table('measurement_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurement_reports_measure_id'))
        batch_op.drop_index(batch_op.f('ix_measurement_reports_entrant_id'))

    op.drop_table('measurement_reports')
    with op.batch_alter_table('bake_off_entrants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bake_off_entrants_phase_id'))
        batch_op.drop_index(batch_op.f('ix_bake_off_entrants_organisation_id'))

    op.drop_table('bake_off_entrants')
    with op.batch_alter_table('award_contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_contracts_decision_id'))

    op.drop_table('award_contracts')
    with op.batch_alter_table('adoption_check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adoption_check_ins_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_adoption_check_ins_challenge_id'))

    op.drop_table('adoption_check_ins')
    # ### end Alembic commands ###
