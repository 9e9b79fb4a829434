"""mailbox links: whether each mailbox's SMTP and IMAP could be reached lately

Revision ID: 0009_mailbox_links
Revises: 0008_live_operations
"""
from alembic import op
import sqlalchemy as sa

import engine.store.types

revision = '0009_mailbox_links'
down_revision = '0008_live_operations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('last_ok_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failing_since', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_kind', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('fix', sa.Text(), nullable=True),
    sa.Column('failures_total', sa.Integer(), nullable=False),
    sa.Column('paused_sending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_mailbox_links_mailbox_id_mailboxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_links')),
    sa.UniqueConstraint('mailbox_id', 'direction', name=op.f('uq_mailbox_links_mailbox_id_direction'))
    )


def downgrade() -> None:
    op.drop_table('mailbox_links')
