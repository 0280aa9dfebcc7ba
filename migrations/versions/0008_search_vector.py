"""Full-text search on PostgreSQL reads a stored, indexed search vector

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:45:00
"""

from alembic import op

from procure.record import search

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in search.vector_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in search.drop_vector_statements(op.get_bind().dialect.name):
        op.execute(statement)
