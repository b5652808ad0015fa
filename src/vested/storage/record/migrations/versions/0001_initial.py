"""The initial schema: the ledger and the tables of the rows its entries record.

Revision ID: 0001_initial
Revises:
Create Date: 2025-07-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash'),
    sa.UniqueConstraint('prev_hash')
    )
    op.create_table('agreement_versions',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('agreement_id', 'version_hash')
    )
    op.create_table('amendments',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('base_hash', sa.String(length=64), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('batch_supersessions',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('dataset', sa.String(length=200), nullable=False),
    sa.Column('batch_id', sa.String(length=200), nullable=False),
    sa.Column('superseded_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('dataset', 'batch_id')
    )
    op.create_table('batches',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('dataset', sa.String(length=200), nullable=False),
    sa.Column('batch_id', sa.String(length=200), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('manifest_hash', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('dataset', 'batch_id')
    )
    op.create_table('decisions',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('decision_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('disputes',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('line_index', sa.Integer(), nullable=True),
    sa.Column('line_label', sa.Text(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('signatures',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('signer', sa.String(length=200), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('agreement_id', 'period', 'revision', 'party')
    )
    op.create_table('statements',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('statement_hash', sa.String(length=64), nullable=False),
    sa.Column('agreement_hash', sa.String(length=64), nullable=False),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('agreement_id', 'period', 'revision')
    )
    op.create_table('users',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('user_id')
    )
    op.create_table('amendment_approvals',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('amendment', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['amendment'], ['amendments.seq'], ),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('amendment', 'party')
    )
    op.create_table('resolutions',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('dispute', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dispute'], ['disputes.seq'], ),
    sa.ForeignKeyConstraint(['seq'], ['ledger.seq'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('dispute', 'party')
    )


def downgrade() -> None:
    raise NotImplementedError("the store's history is appended, never rewritten: no downgrades")
