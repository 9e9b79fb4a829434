"""How much may go out: per-mailbox caps and their limiter (in process or on Redis), warm-up
ramps, and contact limits across sequences. Used by the send path; imports no face."""
