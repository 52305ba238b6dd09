"""workflows

Issue 14: workflow definitions in the shape of HubSpot's Automation v4 API. One row per
flow: what propsync runs is read from ``definition`` (the flow's JSON as HubSpot shows it,
without the server's fields); ``revision`` grows with every save (HubSpot's ``revisionId``,
which a PUT must name); a deleted flow keeps its row (``deleted_ms``) so that its runs
still name it. Flow ids come from a sequence of their own (``workflows``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workflows',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('deleted_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'flow_id', name=op.f('pk_workflows'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE seq_workflows")
    else:
        table = sa.table("id_sequences", sa.column("name"), sa.column("next_value"))
        op.bulk_insert(table, [{"name": "workflows", "next_value": 1}])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE seq_workflows")
    else:
        op.execute("DELETE FROM id_sequences WHERE name = 'workflows'")
    op.drop_table('workflows')
