"""sync values remember their winner; fan-out jobs

A source value edit now copies the new value to the targets whose stored winner is
that record (a fan-out job walking them in batches), instead of re-selecting every
associated target. Existing sync values have no stored winner yet, so every sync
property backfills again: that recomputes and records each winner without touching
values that are already right.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('property_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.BigInteger(), nullable=True))
    op.create_index('ix_property_values_synced_from', 'property_values',
                    ['account_id', 'property_id', 'source_id', 'record_id'], unique=False,
                    postgresql_where=sa.text('source_id IS NOT NULL'),
                    sqlite_where=sa.text('source_id IS NOT NULL'))
    op.create_table('sync_fanouts',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('property_id', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('cursor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('queued_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'property_id', 'source_id', name=op.f('pk_sync_fanouts'))
    )
    op.execute("UPDATE sync_properties SET state = 'BACKFILLING', backfill_cursor = 0, "
               "backfill_done = 0, generation = generation + 1")


def downgrade() -> None:
    op.drop_table('sync_fanouts')
    op.drop_index('ix_property_values_synced_from', table_name='property_values')
    with op.batch_alter_table('property_values', schema=None) as batch_op:
        batch_op.drop_column('source_id')
