"""deliverability: sending domains, DKIM keys, workspace policies, prospect consent

Revision ID: 0010_deliverability
Revises: 0009_mailbox_links
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import engine.store.types

revision = '0010_deliverability'
down_revision = '0009_mailbox_links'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('sending_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('check_status', sa.String(length=16), nullable=False),
    sa.Column('check_findings', JSON, nullable=False),
    sa.Column('checked_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sending_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_sending_domains_domain'))
    )
    op.create_table('dkim_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('selector', sa.String(length=63), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('key_file', sa.String(length=1000), nullable=True),
    sa.Column('key_env', sa.String(length=128), nullable=True),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['sending_domains.id'], name=op.f('fk_dkim_keys_domain_id_sending_domains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dkim_keys')),
    sa.UniqueConstraint('domain_id', 'selector', name=op.f('uq_dkim_keys_domain_id_selector'))
    )
    op.create_table('workspace_policies',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('document', JSON, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('updated_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_workspace_policies'))
    )
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_source', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('consent_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.drop_column('consent_date')
        batch_op.drop_column('consent_source')
    op.drop_table('workspace_policies')
    op.drop_table('dkim_keys')
    op.drop_table('sending_domains')
