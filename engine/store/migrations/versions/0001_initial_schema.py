"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 03:20:46.320777
"""
from alembic import op
import sqlalchemy as sa
import engine.store.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('domain', name=op.f('uq_accounts_domain'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('sequence_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('step_id', sa.String(length=100), nullable=True),
    sa.Column('variant', sa.String(length=32), nullable=True),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_at', ['at'], unique=False)
        batch_op.create_index('ix_events_enrollment', ['enrollment_id'], unique=False)
        batch_op.create_index('ix_events_prospect', ['prospect_id'], unique=False)
        batch_op.create_index('ix_events_sequence_type', ['sequence_id', 'type'], unique=False)

    op.create_table('mailboxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('smtp_url', sa.String(length=500), nullable=False),
    sa.Column('imap_url', sa.String(length=500), nullable=True),
    sa.Column('username', sa.String(length=320), nullable=True),
    sa.Column('password_env', sa.String(length=128), nullable=True),
    sa.Column('imap_folders', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('daily_cap', sa.Integer(), nullable=False),
    sa.Column('hourly_cap', sa.Integer(), nullable=True),
    sa.Column('min_gap_seconds', sa.Integer(), nullable=False),
    sa.Column('per_domain_daily_cap', sa.Integer(), nullable=True),
    sa.Column('warmup', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('signature', sa.Text(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailboxes')),
    sa.UniqueConstraint('name', name=op.f('uq_mailboxes_name'))
    )
    op.create_table('sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequences')),
    sa.UniqueConstraint('key', name=op.f('uq_sequences_key'))
    )
    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=True),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('kind', 'value_hash', name=op.f('uq_suppressions_kind_value_hash'))
    )
    op.create_table('imap_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('uidvalidity', sa.Integer(), nullable=False),
    sa.Column('last_uid', sa.Integer(), nullable=False),
    sa.Column('updated_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_imap_checkpoints_mailbox_id_mailboxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imap_checkpoints')),
    sa.UniqueConstraint('mailbox_id', 'folder', name=op.f('uq_imap_checkpoints_mailbox_id_folder'))
    )
    op.create_table('prospects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('last_name', sa.String(length=200), nullable=True),
    sa.Column('company', sa.String(length=255), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('erased_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_prospects_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prospects')),
    sa.UniqueConstraint('email_key', name=op.f('uq_prospects_email_key'))
    )
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prospects_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_prospects_owner', ['owner'], unique=False)

    op.create_table('sequence_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_path', sa.String(length=500), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('templates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_sequence_versions_sequence_id_sequences')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequence_versions')),
    sa.UniqueConstraint('sequence_id', 'content_hash', name=op.f('uq_sequence_versions_sequence_id_content_hash')),
    sa.UniqueConstraint('sequence_id', 'version', name=op.f('uq_sequence_versions_sequence_id_version'))
    )
    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=100), nullable=True),
    sa.Column('next_run_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_until', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('step_started_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('variants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('enrolled_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_enrollments_mailbox_id_mailboxes')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_enrollments_prospect_id_prospects')),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_enrollments_sequence_id_sequences')),
    sa.ForeignKeyConstraint(['version_id'], ['sequence_versions.id'], name=op.f('fk_enrollments_version_id_sequence_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments'))
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_due', ['state', 'next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollments_mailbox_id'), ['mailbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollments_prospect_id'), ['prospect_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollments_sequence_id'), ['sequence_id'], unique=False)
        batch_op.create_index('uq_enrollments_live', ['prospect_id', 'sequence_id'], unique=True, postgresql_where=sa.text("state IN ('active', 'waiting', 'paused')"), sqlite_where=sa.text("state IN ('active', 'waiting', 'paused')"))

    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=100), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('in_reply_to', sa.String(length=255), nullable=True),
    sa.Column('references', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('not_before', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('held_reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('smtp_status', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_outbound_messages_enrollment_id_enrollments')),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_outbound_messages_mailbox_id_mailboxes')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_outbound_messages_prospect_id_prospects')),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_outbound_messages_sequence_id_sequences')),
    sa.ForeignKeyConstraint(['version_id'], ['sequence_versions.id'], name=op.f('fk_outbound_messages_version_id_sequence_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
    sa.UniqueConstraint('enrollment_id', 'step_id', name=op.f('uq_outbound_messages_enrollment_id_step_id')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbound_messages_message_id'))
    )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_due', ['state', 'mailbox_id', 'not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_messages_prospect_id'), ['prospect_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_messages_sequence_id'), ['sequence_id'], unique=False)
        batch_op.create_index('ix_outbound_sent', ['mailbox_id', 'sent_at'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('prospect_id', sa.Integer(), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('step_id', sa.String(length=100), nullable=True),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('blocking', sa.Boolean(), nullable=False),
    sa.Column('due_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', engine.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_tasks_enrollment_id_enrollments')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_tasks_prospect_id_prospects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('enrollment_id', 'step_id', name=op.f('uq_tasks_enrollment_id_step_id'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_prospect_id'), ['prospect_id'], unique=False)
        batch_op.create_index('ix_tasks_queue', ['owner', 'state', 'due_at'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=300), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('header_message_id', sa.String(length=500), nullable=True),
    sa.Column('from_address', sa.String(length=320), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('received_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('classification', sa.String(length=32), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recipients', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status_code', sa.String(length=16), nullable=True),
    sa.Column('return_date', sa.Date(), nullable=True),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('prospect_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sa.String(length=64), nullable=True),
    sa.Column('overridden_by', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', engine.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_inbound_messages_enrollment_id_enrollments')),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_inbound_messages_mailbox_id_mailboxes')),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_messages.id'], name=op.f('fk_inbound_messages_outbound_id_outbound_messages')),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospects.id'], name=op.f('fk_inbound_messages_prospect_id_prospects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_inbound_messages_dedupe_key'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_outbound_id'), ['outbound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_prospect_id'), ['prospect_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_prospect_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_messages_outbound_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_messages_enrollment_id'))

    op.drop_table('inbound_messages')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_queue')
        batch_op.drop_index(batch_op.f('ix_tasks_prospect_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_sent')
        batch_op.drop_index(batch_op.f('ix_outbound_messages_sequence_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_messages_prospect_id'))
        batch_op.drop_index('ix_outbound_due')

    op.drop_table('outbound_messages')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('uq_enrollments_live', postgresql_where=sa.text("state IN ('active', 'waiting', 'paused')"), sqlite_where=sa.text("state IN ('active', 'waiting', 'paused')"))
        batch_op.drop_index(batch_op.f('ix_enrollments_sequence_id'))
        batch_op.drop_index(batch_op.f('ix_enrollments_prospect_id'))
        batch_op.drop_index(batch_op.f('ix_enrollments_mailbox_id'))
        batch_op.drop_index('ix_enrollments_due')

    op.drop_table('enrollments')
    op.drop_table('sequence_versions')
    with op.batch_alter_table('prospects', schema=None) as batch_op:
        batch_op.drop_index('ix_prospects_owner')
        batch_op.drop_index(batch_op.f('ix_prospects_account_id'))

    op.drop_table('prospects')
    op.drop_table('imap_checkpoints')
    op.drop_table('suppressions')
    op.drop_table('sequences')
    op.drop_table('mailboxes')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_sequence_type')
        batch_op.drop_index('ix_events_prospect')
        batch_op.drop_index('ix_events_enrollment')
        batch_op.drop_index('ix_events_at')

    op.drop_table('events')
    op.drop_table('api_tokens')
    op.drop_table('accounts')
