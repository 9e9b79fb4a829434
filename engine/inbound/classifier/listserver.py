"""Notices from mailing-list managers (fml, ezmlm, Mailman, Majordomo, LISTSERV).

When a prospect's address turns out to be a list, the list manager answers our email with a
notice of its own: "you are not a member of this list", "loop alert", "your post awaits
moderation". A person did not write it, so it must never count as a reply (it would stop the
sequence and inflate the reply rate). We only trust it as a notice when it comes from the
list's administrative address; a colleague's real reply relayed through a list carries list
headers too, but comes from the colleague.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr

from engine.core.classification import InboundClass
from engine.inbound.classifier.parse import ADDRESS_RE

# Headers the list managers put on what they send.
_MANAGER_HEADERS = ("x-mlserver", "x-ml-info", "x-mailman-version", "mailing-list", "list-id")
# The sender of a notice: the list's owner/admin/request address, or the manager itself.
_ADMIN_SENDER = re.compile(
    r"^(?:owner-.+|.+-(?:admin|owner|request|ctl|bounces|approval)|"
    r"mailman|majordomo|listserv|ezmlm|fml|sympa)$",
    re.I,
)
_NOT_MEMBER = re.compile(
    r"not (?:a )?member|only (?:list )?members|members only|non-?member|"
    r"not (?:a )?subscriber|not subscribed|subscribers only|only subscribers|"
    r"(?:awaits|requires|held for) (?:the )?(?:moderator|moderation|approval)",
    re.I,
)
_LOOP = re.compile(r"loop alert|mail loop|duplicated message-id|looping", re.I)


@dataclass(frozen=True, slots=True)
class ListNotice:
    kind: InboundClass
    reason: str
    evidence: tuple[str, ...]
    recipients: tuple[str, ...]  # the list's address, when the notice names it


def detect(headers: dict[str, str], subject: str, text: str) -> ListNotice | None:
    """A list manager's notice about our message, or None when this is anything else."""
    present = [name for name in _MANAGER_HEADERS if headers.get(name)]
    sender = parseaddr(headers.get("from", ""))[1].lower()
    local = sender.split("@", 1)[0]
    if not present or not _ADMIN_SENDER.match(local):
        return None
    evidence = [f"header {present[0]}: {headers[present[0]][:60]}", f"from list address {sender}"]
    words = f"{subject}\n{text[:2000]}"
    if found := _NOT_MEMBER.search(words):
        kind, reason = InboundClass.BLOCKED, "the list accepts posts from members only"
    elif found := _LOOP.search(words):
        kind, reason = InboundClass.SOFT_BOUNCE, "the list refused a looping or duplicate post"
    else:
        return None  # some other list mail (a digest, a welcome): not ours to judge here
    evidence.append(f'phrase "{found.group(0)}"')
    named = [a.lower() for a in ADDRESS_RE.findall(text[:2000]) if a.lower() != sender]
    return ListNotice(kind, reason, tuple(evidence), tuple(dict.fromkeys(named))[:1])
