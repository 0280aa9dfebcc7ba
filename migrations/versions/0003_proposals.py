"""Proposals: answers, attachments and receipts

Revision ID: 0003_proposals
Revises: 0002_challenges
Create Date: 2026-11-22 09:02:06.718080
"""

from alembic import op
import sqlalchemy as sa
import procure.db


revision = '0003_proposals'
down_revision = '0002_challenges'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('team', sa.Text(), nullable=False),
    sa.Column('price_pence', sa.Integer(), nullable=True),
    sa.Column('timeline', sa.Text(), nullable=False),
    sa.Column('declare_accurate', sa.Boolean(), nullable=False),
    sa.Column('declare_no_collusion', sa.Boolean(), nullable=False),
    sa.Column('declare_eligible', sa.Boolean(), nullable=False),
    sa.Column('consent_publish_summary', sa.Boolean(), nullable=False),
    sa.Column('must_reconfirm', sa.Boolean(), nullable=False),
    sa.Column('current_receipt_id', sa.Integer(), nullable=True),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_proposals_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_proposals_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_proposals_phase_id_phases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    sa.UniqueConstraint('phase_id', 'organisation_id', name=op.f('uq_proposals_phase_id'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_status'), ['status'], unique=False)

    op.create_table('proposal_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_attachments_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_proposal_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_proposal_attachments_stored_name'))
    )
    with op.batch_alter_table('proposal_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_attachments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('phase_criterion_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['phase_criterion_id'], ['phase_criteria.id'], name=op.f('fk_proposal_responses_phase_criterion_id_phase_criteria')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_responses_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_responses')),
    sa.UniqueConstraint('proposal_id', 'phase_criterion_id', name=op.f('uq_proposal_responses_proposal_id'))
    )
    with op.batch_alter_table('proposal_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_responses_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('received_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('challenge_version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_receipts_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_receipts_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('digest', name=op.f('uq_receipts_digest'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_proposal_id'), ['proposal_id'], unique=False)

    # The proposal points at the receipt that counts: added once both tables exist.
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_proposals_current_receipt_id_receipts'),
                                    'receipts', ['current_receipt_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_current_receipt_id_receipts'),
                                 type_='foreignkey')

    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_proposal_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('proposal_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_responses_proposal_id'))

    op.drop_table('proposal_responses')
    with op.batch_alter_table('proposal_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_attachments_proposal_id'))

    op.drop_table('proposal_attachments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_proposals_phase_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_organisation_id'))

    op.drop_table('proposals')
