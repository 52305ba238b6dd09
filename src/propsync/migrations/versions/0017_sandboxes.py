"""sandboxes

Issue 16 (sandboxes): an account may be a sandbox of another, ``accounts.sandbox_of``
naming its source (NULL for an ordinary account). A sandbox is an account like any
other (its own users, tokens, records); the column only says where it was copied from,
so that the source lists its sandboxes and only a sandbox may be deleted whole. Indexed,
as the source's settings page lists them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('sandbox_of', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_accounts_sandbox_of'), 'accounts', ['sandbox_of'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_accounts_sandbox_of'), table_name='accounts')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('sandbox_of')
