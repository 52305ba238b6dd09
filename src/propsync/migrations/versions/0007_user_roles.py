"""users have a role

SPEC 2: a *super admin* manages users, teams and access rules; an *admin* with the
property-settings permission manages properties, sync properties and labels; a *user*
works with records only, within property access. Users that existed before roles could
do all of that, so they become super admins; new users get the role they are given.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20),
                                      server_default='super_admin', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('role')
