"""live operations: a sequence can be paused as a whole; workspace policy versions; manual
emails awaiting review

Revision ID: 0008_live_operations
Revises: 0007_narrow_ambiguity
"""
from alembic import op
import sqlalchemy as sa
import engine.store.types
from sqlalchemy.dialects import postgresql

revision = '0008_live_operations'
down_revision = '0007_narrow_ambiguity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sequences') as batch:
        batch.add_column(
            sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('paused_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('outbound_messages') as batch:
        batch.add_column(sa.Column('review', sa.String(length=16), nullable=True))
    op.create_table('policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_path', sa.String(length=500), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_policy_versions_version'))
    )


def downgrade() -> None:
    op.drop_table('policy_versions')
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_column('review')
    with op.batch_alter_table('sequences') as batch:
        batch.drop_column('paused_reason')
        batch.drop_column('paused')
