"""Inbound: what happens when mail arrives — sources (IMAP poll, files, stdin), ingest, matching
to what we sent, the actions a class triggers, reclassification and one-click unsubscribe.
`classifier/` is its pure core. May use people, workspace, store, mail and the pure core."""
