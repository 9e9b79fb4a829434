"""The embedded engine: one process (`kadenz run`) that resolves leases, ticks, sends, polls,
rolls up and delivers webhooks on intervals. Composes the capabilities; the faces call it."""
