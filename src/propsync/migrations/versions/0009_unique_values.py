"""unique property values, and the audit of GDPR deletes

Issue 13: ``hasUniqueValue`` is enforced by the primary key of ``unique_values`` (one row
per value a live record holds of a unique property); ``gdpr_deletions`` records that a
record was erased, without its personal data. No property was unique before (creating one
was refused), so there is nothing to fill.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unique_values',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('property_id', sa.BigInteger(), nullable=False),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'property_id', 'value_hash',
                            name=op.f('pk_unique_values'))
    )
    op.create_index(op.f('ix_unique_values_account_id_record_id'), 'unique_values',
                    ['account_id', 'record_id'], unique=False)
    op.create_table('gdpr_deletions',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('id_property', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'entry_id', name=op.f('pk_gdpr_deletions'))
    )


def downgrade() -> None:
    op.drop_table('gdpr_deletions')
    op.drop_index(op.f('ix_unique_values_account_id_record_id'), table_name='unique_values')
    op.drop_table('unique_values')
