"""The inbound classifier, pure: RFC 3464/ARF reports, bounces, auto-replies, human replies and
their intent, each with its evidence. Imports no database, network or web library."""
