"""The workspace's configuration objects: sequence versions, mailboxes, API tokens and outgoing
webhooks. May use store, mail and the pure core."""
