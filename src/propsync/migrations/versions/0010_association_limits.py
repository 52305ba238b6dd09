"""association limits

Issue 13: an account limits how many records one record may be associated with by one
association type (HubSpot's association configurations, ``userEnforcedMaxToObjectIds``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('association_limits',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('max_to_object_ids', sa.Integer(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'type_id', name=op.f('pk_association_limits'))
    )


def downgrade() -> None:
    op.drop_table('association_limits')
