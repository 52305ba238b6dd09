"""workflow enrollments and the run log

Issue 14: records enrolled in workflows (``workflow_enrollments``: one active enrollment per
flow and record, kept by a partial unique index; due ones claimed by a partial index on
``due_ms``), their counts per flow (``workflow_counts``, kept in the transactions that
insert and end enrollments), the run log (``workflow_runs``, one row per action run), and
the versions of the values workflows wrote (``workflow_value_versions``: a copy keeps the
version of the value it copied, for "the last write wins"). Ids come from two new sequences,
``enrollments`` and ``runs``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SEQUENCES = ("enrollments", "runs")
ACTIVE = sa.text("state = 'ACTIVE'")


def upgrade() -> None:
    op.create_table('workflow_enrollments',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('enrollment_id', sa.BigInteger(), nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('next_action_id', sa.String(length=50), nullable=True),
    sa.Column('due_ms', sa.BigInteger(), nullable=True),
    sa.Column('enrolled_ms', sa.BigInteger(), nullable=False),
    sa.Column('finished_ms', sa.BigInteger(), nullable=True),
    sa.Column('reenroll_pending', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('cause', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'enrollment_id',
                            name=op.f('pk_workflow_enrollments'))
    )
    op.create_index('ix_workflow_enrollments_one_active', 'workflow_enrollments',
                    ['account_id', 'flow_id', 'record_id'], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index('ix_workflow_enrollments_due', 'workflow_enrollments',
                    ['due_ms', 'account_id', 'enrollment_id'], unique=False,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index(op.f('ix_workflow_enrollments_account_id_flow_id_record_id'),
                    'workflow_enrollments', ['account_id', 'flow_id', 'record_id'],
                    unique=False)
    op.create_index(op.f('ix_workflow_enrollments_account_id_record_id'),
                    'workflow_enrollments', ['account_id', 'record_id'], unique=False)
    op.create_table('workflow_runs',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.BigInteger(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('action_id', sa.String(length=50), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('written', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'run_id', name=op.f('pk_workflow_runs'))
    )
    op.create_index(op.f('ix_workflow_runs_account_id_flow_id_run_id'), 'workflow_runs',
                    ['account_id', 'flow_id', 'run_id'], unique=False)
    op.create_index(op.f('ix_workflow_runs_account_id_record_id_run_id'), 'workflow_runs',
                    ['account_id', 'record_id', 'run_id'], unique=False)
    op.create_table('workflow_counts',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('flow_id', sa.BigInteger(), nullable=False),
    sa.Column('enrolled', sa.BigInteger(), nullable=False),
    sa.Column('completed', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('cancelled', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'flow_id', name=op.f('pk_workflow_counts'))
    )
    op.create_table('workflow_value_versions',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('property_id', sa.BigInteger(), nullable=False),
    sa.Column('version_ms', sa.BigInteger(), nullable=False),
    sa.Column('version_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'record_id', 'property_id',
                            name=op.f('pk_workflow_value_versions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"CREATE SEQUENCE seq_{name}")
    else:
        table = sa.table("id_sequences", sa.column("name"), sa.column("next_value"))
        op.bulk_insert(table, [{"name": name, "next_value": 1} for name in SEQUENCES])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"DROP SEQUENCE seq_{name}")
    else:
        op.execute("DELETE FROM id_sequences WHERE name IN ('enrollments', 'runs')")
    op.drop_table('workflow_value_versions')
    op.drop_table('workflow_counts')
    op.drop_table('workflow_runs')
    op.drop_table('workflow_enrollments')
