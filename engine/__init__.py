"""Kadenz: outbound sales sequences as code, sent from your own mailboxes."""

__version__ = "0.1.0"
