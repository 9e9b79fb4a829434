"""Outbound: how an email goes out — the tick that plans steps, the claim and send that deliver
them at most once, SMTP outcomes, caps and limiters, and the read-only explain, outbox,
simulate and forecast views. May use people, workspace, store, mail and the pure core."""
