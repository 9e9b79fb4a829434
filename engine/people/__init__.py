"""People: prospects and their CSV import, suppression, erasure, enrollment and its lifecycle,
lead scores, tasks and the SDR queue. May use workspace, store, mail and the pure core."""
