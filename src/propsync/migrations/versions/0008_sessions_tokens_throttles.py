"""server-side sessions, revocable tokens, sign-in throttles, daily API counts

Issue 12 (9-11): a session lives in the database, so signing out (or a password change)
ends it at once; a token can be revoked and shows when it was last used; failed sign-ins
are counted per e-mail address and per client address, across processes; each account's
API calls of the day are counted for HubSpot's daily limit.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sessions',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('seen_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'session_hash', name=op.f('pk_sessions'))
    )
    op.create_index(op.f('ix_sessions_account_id_user_id'), 'sessions',
                    ['account_id', 'user_id'], unique=False)
    with op.batch_alter_table('tokens') as batch_op:
        batch_op.add_column(sa.Column('last_used_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('revoked_ms', sa.BigInteger(), nullable=True))
    op.create_table('signin_throttle',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('blocked_until_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_signin_throttle'))
    )
    op.create_index(op.f('ix_signin_throttle_updated_ms'), 'signin_throttle', ['updated_ms'],
                    unique=False)
    op.create_table('api_usage_daily',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_api_usage_daily'))
    )


def downgrade() -> None:
    op.drop_table('api_usage_daily')
    op.drop_index(op.f('ix_signin_throttle_updated_ms'), table_name='signin_throttle')
    op.drop_table('signin_throttle')
    with op.batch_alter_table('tokens') as batch_op:
        batch_op.drop_column('revoked_ms')
        batch_op.drop_column('last_used_ms')
    op.drop_index(op.f('ix_sessions_account_id_user_id'), table_name='sessions')
    op.drop_table('sessions')
