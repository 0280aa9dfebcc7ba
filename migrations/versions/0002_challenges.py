"""value frameworks, challenges, funders, phases, criteria, clarifications, amendments

Revision ID: 0002_challenges
Revises: 0001_foundation
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa
import procure.db


revision = '0002_challenges'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tag_follows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=50), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tag_follows_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'tag', name=op.f('pk_tag_follows'))
    )
    with op.batch_alter_table('tag_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_follows_tag'), ['tag'], unique=False)

    op.create_table('value_frameworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_cy', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_cy', sa.Text(), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_value_frameworks_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_value_frameworks')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_value_frameworks_code'))
    )
    with op.batch_alter_table('value_frameworks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_value_frameworks_code'), ['code'], unique=False)

    op.create_table('challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_cy', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('summary_cy', sa.Text(), nullable=False),
    sa.Column('problem_statement', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('affected', sa.Text(), nullable=False),
    sa.Column('outcomes_sought', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('clarification_deadline', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('in_progress_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('concluded_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_challenges_created_by_id_users')),
    sa.ForeignKeyConstraint(['lead_organisation_id'], ['organisations.id'], name=op.f('fk_challenges_lead_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges'))
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenges_lead_organisation_id'), ['lead_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_status'), ['status'], unique=False)

    op.create_table('value_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_cy', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_cy', sa.Text(), nullable=False),
    sa.Column('guidance_en', sa.JSON(), nullable=False),
    sa.Column('guidance_cy', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['value_frameworks.id'], name=op.f('fk_value_criteria_framework_id_value_frameworks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_value_criteria')),
    sa.UniqueConstraint('framework_id', 'code', name=op.f('uq_value_criteria_framework_id'))
    )
    with op.batch_alter_table('value_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_value_criteria_framework_id'), ['framework_id'], unique=False)

    op.create_table('challenge_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_amendments_challenge_id_challenges')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_challenge_amendments_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_amendments')),
    sa.UniqueConstraint('challenge_id', 'version', name=op.f('uq_challenge_amendments_challenge_id'))
    )
    with op.batch_alter_table('challenge_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_amendments_challenge_id'), ['challenge_id'], unique=False)

    op.create_table('challenge_funders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('pledge_pence', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_funders_challenge_id_challenges')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_challenge_funders_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_funders')),
    sa.UniqueConstraint('challenge_id', 'organisation_id', name=op.f('uq_challenge_funders_challenge_id'))
    )
    with op.batch_alter_table('challenge_funders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_funders_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_funders_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('challenge_tags',
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_tags_challenge_id_challenges')),
    sa.PrimaryKeyConstraint('challenge_id', 'tag', name=op.f('pk_challenge_tags'))
    )
    with op.batch_alter_table('challenge_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_tags_tag'), ['tag'], unique=False)

    op.create_table('clarifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('asked_at', procure.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_clarifications_answered_by_id_users')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_clarifications_asked_by_id_users')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_clarifications_challenge_id_challenges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clarifications'))
    )
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.create_index('ix_clarifications_challenge_published', ['challenge_id', 'published_at'], unique=False)

    op.create_table('phases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opens_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closes_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('contracts', sa.Integer(), nullable=True),
    sa.Column('max_value_pence', sa.Integer(), nullable=True),
    sa.Column('duration_months', sa.Integer(), nullable=True),
    sa.Column('min_assessments', sa.Integer(), nullable=False),
    sa.Column('threshold_percent', sa.Integer(), nullable=False),
    sa.Column('outcome_share_percent', sa.Integer(), nullable=False),
    sa.Column('opened_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', procure.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_phases_challenge_id_challenges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phases')),
    sa.UniqueConstraint('challenge_id', 'position', name=op.f('uq_phases_challenge_id'))
    )
    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phases_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phases_closes_at'), ['closes_at'], unique=False)

    op.create_table('outcome_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('target', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['value_criteria.id'], name=op.f('fk_outcome_measures_criterion_id_value_criteria')),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_outcome_measures_phase_id_phases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_measures'))
    )
    with op.batch_alter_table('outcome_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_measures_phase_id'), ['phase_id'], unique=False)

    op.create_table('phase_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['value_criteria.id'], name=op.f('fk_phase_criteria_criterion_id_value_criteria')),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], name=op.f('fk_phase_criteria_phase_id_phases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phase_criteria')),
    sa.UniqueConstraint('phase_id', 'criterion_id', name=op.f('uq_phase_criteria_phase_id'))
    )
    with op.batch_alter_table('phase_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phase_criteria_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phase_criteria_phase_id'), ['phase_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_followed_tags', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_followed_tags')

    with op.batch_alter_table('phase_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phase_criteria_phase_id'))
        batch_op.drop_index(batch_op.f('ix_phase_criteria_criterion_id'))

    op.drop_table('phase_criteria')
    with op.batch_alter_table('outcome_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_measures_phase_id'))

    op.drop_table('outcome_measures')
    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phases_closes_at'))
        batch_op.drop_index(batch_op.f('ix_phases_challenge_id'))

    op.drop_table('phases')
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.drop_index('ix_clarifications_challenge_published')

    op.drop_table('clarifications')
    with op.batch_alter_table('challenge_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_tags_tag'))

    op.drop_table('challenge_tags')
    with op.batch_alter_table('challenge_funders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_funders_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_funders_challenge_id'))

    op.drop_table('challenge_funders')
    with op.batch_alter_table('challenge_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_amendments_challenge_id'))

    op.drop_table('challenge_amendments')
    with op.batch_alter_table('value_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_value_criteria_framework_id'))

    op.drop_table('value_criteria')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenges_status'))
        batch_op.drop_index(batch_op.f('ix_challenges_opened_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_lead_organisation_id'))

    op.drop_table('challenges')
    with op.batch_alter_table('value_frameworks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_value_frameworks_code'))

    op.drop_table('value_frameworks')
    with op.batch_alter_table('tag_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_follows_tag'))

    op.drop_table('tag_follows')
