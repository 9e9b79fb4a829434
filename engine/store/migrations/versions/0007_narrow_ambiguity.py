"""narrow ambiguity: the claim's token and the start of the SMTP transaction per message;
where a mailbox's provider files submissions (its Sent folder), for resolving by proof

Revision ID: 0007_narrow_ambiguity
Revises: 0006_users
"""
from alembic import op
import sqlalchemy as sa
import engine.store.types

revision = '0007_narrow_ambiguity'
down_revision = '0006_users'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages') as batch:
        batch.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column('smtp_started_at', engine.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('smtp_outcome', sa.String(length=16), nullable=True))
    with op.batch_alter_table('mailboxes') as batch:
        batch.add_column(sa.Column('sent_folder', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('sent_folder_files_submissions', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mailboxes') as batch:
        batch.drop_column('sent_folder_files_submissions')
        batch.drop_column('sent_folder')
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_column('smtp_outcome')
        batch.drop_column('smtp_started_at')
        batch.drop_column('claim_token')
