"""inbox: inbound messages a person handled, and notes on prospects

Revision ID: 0005_inbox
Revises: 0004_prospect_zone_source
"""
from alembic import op
import sqlalchemy as sa

import engine.store.types

revision = '0005_inbox'
down_revision = '0004_prospect_zone_source'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages') as batch:
        batch.add_column(sa.Column('handled_at', engine.store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('handled_by', sa.String(length=200), nullable=True))
        batch.create_index(batch.f('ix_inbound_messages_handled_at'), ['handled_at'], unique=False)
    op.create_table('prospect_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_prospect_notes_prospect_id_prospects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prospect_notes'))
    )
    with op.batch_alter_table('prospect_notes') as batch:
        batch.create_index(batch.f('ix_prospect_notes_prospect_id'), ['prospect_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('prospect_notes') as batch:
        batch.drop_index(batch.f('ix_prospect_notes_prospect_id'))
    op.drop_table('prospect_notes')
    with op.batch_alter_table('inbound_messages') as batch:
        batch.drop_index(batch.f('ix_inbound_messages_handled_at'))
        batch.drop_column('handled_by')
        batch.drop_column('handled_at')
