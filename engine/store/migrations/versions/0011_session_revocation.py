"""session revocation: logged-out dashboard cookies, refused until they expire

Revision ID: 0011_session_revocation
Revises: 0010_deliverability
"""
from alembic import op
import sqlalchemy as sa
import engine.store.types

revision = '0011_session_revocation'
down_revision = '0010_deliverability'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revoked_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revoked_sessions'))
    )
    op.create_index(op.f('ix_revoked_sessions_token_id'), 'revoked_sessions', ['token_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_revoked_sessions_token_id'), table_name='revoked_sessions')
    op.drop_table('revoked_sessions')
