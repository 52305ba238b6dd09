"""lists

Issue 15 (lists): HubSpot's Lists v3 lists (``lists``) and their members with the time each
joined (``list_memberships``), ids from the sequence ``lists``, and the change feed's third
reader, ``lists``, whose cursor starts after every row already in the log (the lists it
keeps start from a whole evaluation).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lists',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('list_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('processing_type', sa.String(length=20), nullable=False),
    sa.Column('filter_branch', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('next_eval_ms', sa.BigInteger(), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('filters_updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('deleted_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'list_id', name=op.f('pk_lists'))
    )
    op.create_index(op.f('ix_lists_account_id_object_type_list_id'), 'lists',
                    ['account_id', 'object_type', 'list_id'], unique=False)
    op.create_table('list_memberships',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('list_id', sa.BigInteger(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('added_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'list_id', 'record_id',
                            name=op.f('pk_list_memberships'))
    )
    op.create_index(op.f('ix_list_memberships_account_id_record_id'), 'list_memberships',
                    ['account_id', 'record_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE seq_lists")
    else:
        table = sa.table("id_sequences", sa.column("name"), sa.column("next_value"))
        op.bulk_insert(table, [{"name": "lists", "next_value": 1}])
    op.execute("INSERT INTO change_readers (reader, txid, change_id, updated_ms) "
               "SELECT 'lists', coalesce(max(txid), 0), coalesce(max(change_id), 0), 0 "
               "FROM (SELECT txid, change_id FROM change_log "
               "ORDER BY txid DESC, change_id DESC LIMIT 1) last")


def downgrade() -> None:
    op.execute("DELETE FROM change_watches WHERE reader = 'lists'")
    op.execute("DELETE FROM change_readers WHERE reader = 'lists'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE seq_lists")
    else:
        op.execute("DELETE FROM id_sequences WHERE name = 'lists'")
    op.drop_index(op.f('ix_list_memberships_account_id_record_id'),
                  table_name='list_memberships')
    op.drop_table('list_memberships')
    op.drop_index(op.f('ix_lists_account_id_object_type_list_id'), table_name='lists')
    op.drop_table('lists')
