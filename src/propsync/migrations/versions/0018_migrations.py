"""migrations

Issue 16 (the migration itself): one row per migration from a copy workflow to a sync
property, a resumable, undoable state machine (``domain/migrations.py``). ``proposal`` is
the plan (JSON), ``results`` each step's outcome (JSON), ``sync_property`` the internal
name of the sync property once created. Ids come from a new sequence, ``migrations``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('migrations',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('migration_id', sa.BigInteger(), nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('sync_property', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'migration_id', name=op.f('pk_migrations'))
    )
    op.create_index(op.f('ix_migrations_account_id_flow_id'), 'migrations',
                    ['account_id', 'flow_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE seq_migrations")
    else:
        table = sa.table("id_sequences", sa.column("name"), sa.column("next_value"))
        op.bulk_insert(table, [{"name": "migrations", "next_value": 1}])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE seq_migrations")
    else:
        op.execute("DELETE FROM id_sequences WHERE name = 'migrations'")
    op.drop_index(op.f('ix_migrations_account_id_flow_id'), table_name='migrations')
    op.drop_table('migrations')
