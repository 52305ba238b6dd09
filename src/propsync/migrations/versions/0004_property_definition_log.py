"""a log of property definition changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('property_definition_log',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('property_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('property_name', sa.String(length=200), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'entry_id', name=op.f('pk_property_definition_log'))
    )
    op.create_index(op.f('ix_property_definition_log_account_id_property_id_entry_id'),
                    'property_definition_log', ['account_id', 'property_id', 'entry_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_property_definition_log_account_id_property_id_entry_id'),
                  table_name='property_definition_log')
    op.drop_table('property_definition_log')
