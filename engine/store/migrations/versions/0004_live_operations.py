"""live operations: a sequence can be paused as a whole

Revision ID: 0004_live_operations
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_live_operations'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sequences') as batch:
        batch.add_column(
            sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('paused_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sequences') as batch:
        batch.drop_column('paused_reason')
        batch.drop_column('paused')
