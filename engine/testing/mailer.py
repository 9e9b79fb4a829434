"""A Mailer that sends nothing: it records each call and answers as scripted.

    mailer = FakeMailer(outcomes={"gone@x.example": SendOutcome.REJECTED})
    result = await mailer.send("anna@acme.example", "gone@x.example", data)
    mailer.sent        # [SentMessage(...)] for every ACCEPTED or AMBIGUOUS call

Scripts are per recipient (case-insensitive); a list of outcomes is consumed one per call
(the last one repeats), so `[RETRY, ACCEPTED]` fails once, then succeeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.mail.smtp import BeforeData, SendOutcome, SendResult, go_ahead

_CANNED = {
    SendOutcome.ACCEPTED: (250, "2.0.0", "250 2.0.0 Ok: queued"),
    SendOutcome.RETRY: (451, "4.7.1", "451 4.7.1 Greylisted, try again later (at RCPT TO)"),
    SendOutcome.REJECTED: (550, "5.1.1", "550 5.1.1 No such user (at RCPT TO)"),
    SendOutcome.AMBIGUOUS: (None, None, "connection lost after the message was sent"),
    SendOutcome.MAILBOX_ERROR: (535, "5.7.8", "535 5.7.8 Authentication credentials invalid"),
}


@dataclass(frozen=True)
class SentMessage:
    envelope_from: str
    recipient: str
    data: bytes


@dataclass
class FakeMailer:
    outcomes: Mapping[str, SendOutcome | SendResult | Sequence[SendOutcome | SendResult]] = field(
        default_factory=dict
    )
    calls: list[SentMessage] = field(default_factory=list)  # every call, whatever the outcome
    sent: list[SentMessage] = field(default_factory=list)  # calls the server may have delivered
    closed: bool = False

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        await before_data()  # nothing goes out before the start is committed
        message = SentMessage(envelope_from, recipient, data)
        self.calls.append(message)
        result = self._next(recipient)
        if result.outcome in (SendOutcome.ACCEPTED, SendOutcome.AMBIGUOUS):
            self.sent.append(message)
        return result

    async def close(self) -> None:
        self.closed = True

    def _next(self, recipient: str) -> SendResult:
        script = {k.lower(): v for k, v in self.outcomes.items()}.get(
            recipient.lower(), SendOutcome.ACCEPTED
        )
        if isinstance(script, (SendOutcome, SendResult)):
            return _result(script)
        calls = sum(1 for c in self.calls if c.recipient.lower() == recipient.lower())
        return _result(script[min(calls, len(script)) - 1])


def _result(value: SendOutcome | SendResult) -> SendResult:
    if isinstance(value, SendResult):
        return value
    code, status, message = _CANNED[value]
    return SendResult(outcome=value, code=code, status=status, message=message)
