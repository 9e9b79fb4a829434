"""Emails a person writes from the inbox, told apart from the sequence's own steps. Pure.

A person's reply is an outbound message like any other (at most once, caps, threading), but
it belongs to no step: its `step_id` is `inbox-reply:<inbound id>:<key>`, which a sequence's
step id can never be (those are letters, digits, `-` and `_`). The send path lets it go
while the enrollment is stopped (a reply usually stopped it) and outside the send window (a
person is answering now); reports do not count it as a step or a first contact.
"""

from __future__ import annotations

import re

PREFIX = "inbox-reply:"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def step_id(inbound_id: int, key: str) -> str:
    """The step id of a person's reply; `key` makes a double click the same reply."""
    if not _KEY.match(key):
        raise ValueError("a reply key is 1-32 letters, digits, - or _")
    return f"{PREFIX}{inbound_id}:{key}"


def is_person_reply(step: str | None) -> bool:
    return bool(step) and str(step).startswith(PREFIX)
