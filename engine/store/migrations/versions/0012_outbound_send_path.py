"""outbound_messages shaped for the send path: the claim's index in its order, room for updates

1. The claim takes a mailbox's due messages in (not_before, id) order, a batch at a time.
   `ix_outbound_due` (state, mailbox_id, not_before) gave no order for ties, so PostgreSQL
   read, joined and sorted *every* due message of the mailbox for each batch: a claim cost
   grew with the backlog. With `id` as its last column the index is the order, and a claim
   reads only the rows it takes.
2. Every message is updated several times while it is sent: the claim, the checkpoint
   before its MAIL FROM (start, then outcome) and the record. The checkpoint changes no
   indexed column, so with free room on the row's page PostgreSQL rewrites the row in place
   (a heap-only tuple) instead of inserting into each of the table's seven indexes; pages
   filled to 100 % (the default) leave no room. Applies to pages written from now on
   (`VACUUM FULL outbound_messages` repacks older ones if wanted). SQLite has no such
   setting.

Revision ID: 0012_outbound_send_path
Revises: 0011_session_revocation
"""
from alembic import op

revision = '0012_outbound_send_path'
down_revision = '0011_session_revocation'
branch_labels = None
depends_on = None

FILLFACTOR = 70  # room for two more versions of a row of ordinary size on its page


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_index('ix_outbound_due')
        batch.create_index('ix_outbound_due', ['state', 'mailbox_id', 'not_before', 'id'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE outbound_messages SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbound_messages RESET (fillfactor)")
    with op.batch_alter_table('outbound_messages') as batch:
        batch.drop_index('ix_outbound_due')
        batch.create_index('ix_outbound_due', ['state', 'mailbox_id', 'not_before'])
