"""prospect zone source: where a prospect's time zone came from (column, region, country)

Revision ID: 0004_prospect_zone_source
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_prospect_zone_source'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('prospects') as batch:
        batch.add_column(sa.Column('timezone_source', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prospects') as batch:
        batch.drop_column('timezone_source')
