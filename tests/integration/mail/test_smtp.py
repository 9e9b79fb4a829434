"""SmtpSender against a real aiosmtpd server with scripted faults: each reply -> its outcome."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from engine.mail.compose import OutgoingEmail, build_mime, new_message_id
from engine.mail.smtp import SendOutcome, SendResult, SmtpSender
from engine.mail.urls import parse_smtp_url
from tests.conftest import IN_CI
from tests.support.smtp_server import Fault, SmtpSink, tls_available

pytestmark = pytest.mark.anyio

FROM = "anna@acme.example"


def message(to: str = "erik@customer.example") -> bytes:
    return build_mime(
        OutgoingEmail(
            from_address=FROM,
            from_name="Anna",
            to_address=to,
            to_name=None,
            subject="Hello",
            text="Hi\n.\n..two dots\n",
            html=None,
            message_id=new_message_id("acme.example"),
            date=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        )
    )


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def sender_for(sink: SmtpSink, **kwargs: object) -> SmtpSender:
    options: dict[str, object] = {"password": None, "timeout": 2.0, "data_timeout": 1.0}
    options.update(kwargs)
    return SmtpSender(parse_smtp_url(sink.url), helo_name="client.localhost", **options)  # type: ignore[arg-type]


async def send_one(sink: SmtpSink, to: str, **kwargs: object) -> SendResult:
    async with sender_for(sink, **kwargs) as sender:
        return await sender.send(FROM, to, message(to))


async def test_accepted_message_arrives_intact(sink: SmtpSink) -> None:
    data = message()
    async with sender_for(sink) as sender:
        result = await sender.send(FROM, "erik@customer.example", data)
    assert result.outcome is SendOutcome.ACCEPTED
    assert result.code == 250 and result.status == "2.0.0"
    [received] = sink.wait_for(1)
    assert received.mail_from == FROM
    assert received.rcpt_tos == ("erik@customer.example",)
    assert received.data == data  # dot-stuffing undone by the server, bytes identical


@pytest.mark.parametrize(
    ("fault", "outcome", "code", "status"),
    [
        (Fault.RCPT_451, SendOutcome.RETRY, 451, "4.7.1"),
        (Fault.RCPT_550, SendOutcome.REJECTED, 550, "5.1.1"),
        (Fault.RCPT_552, SendOutcome.REJECTED, 552, "5.2.2"),
        (Fault.DATA_554, SendOutcome.REJECTED, 554, "5.7.1"),
        (Fault.DATA_451, SendOutcome.RETRY, 451, "4.3.0"),
        (Fault.DROP_DURING_DATA, SendOutcome.AMBIGUOUS, None, None),
        (Fault.HANG_AFTER_DATA, SendOutcome.AMBIGUOUS, None, None),
    ],
)
async def test_each_fault_has_its_outcome(
    fault: Fault, outcome: SendOutcome, code: int | None, status: str | None
) -> None:
    with SmtpSink(faults={"x@customer.example": fault}) as sink:
        result = await send_one(sink, "x@customer.example")
        assert (result.outcome, result.code, result.status) == (outcome, code, status)
        assert sink.messages == []
        if fault in (Fault.DATA_554, Fault.DATA_451, Fault.DROP_DURING_DATA, Fault.HANG_AFTER_DATA):
            assert sink.data_received == 1  # the payload did reach the server
        else:
            assert sink.data_received == 0


async def test_ambiguous_message_says_it_may_have_been_delivered() -> None:
    with SmtpSink(faults={"x@customer.example": Fault.HANG_AFTER_DATA}) as sink:
        result = await send_one(sink, "x@customer.example")
    assert "may have been delivered" in result.message


async def test_421_at_connect_is_retry() -> None:
    with SmtpSink(refuse_connections=1) as sink:
        result = await send_one(sink, "erik@customer.example")
        assert (result.outcome, result.code, result.status) == (SendOutcome.RETRY, 421, "4.3.2")
        assert sink.messages == []
        # The next attempt (a new connection) goes through.
        assert (await send_one(sink, "erik@customer.example")).outcome is SendOutcome.ACCEPTED


async def test_connection_refused_is_retry() -> None:
    with SmtpSink() as sink:
        url = sink.url
    sender = SmtpSender(parse_smtp_url(url), password=None, timeout=2.0)
    result = await sender.send(FROM, "erik@customer.example", message())
    assert result.outcome is SendOutcome.RETRY and result.code is None
    assert "cannot connect" in result.message


async def test_one_connection_for_many_messages_and_failures_do_not_break_it() -> None:
    with SmtpSink(faults={"gone@customer.example": Fault.RCPT_550}) as sink:
        async with sender_for(sink) as sender:
            outcomes = []
            for i in range(20):
                to = "gone@customer.example" if i == 7 else f"p{i}@customer.example"
                outcomes.append((await sender.send(FROM, to, message(to))).outcome)
        assert outcomes.count(SendOutcome.ACCEPTED) == 19
        assert outcomes[7] is SendOutcome.REJECTED
        received = sink.wait_for(19)
        assert sink.connections == 1
        assert {m.connection for m in received} == {1}


async def test_reconnects_when_the_server_closed_an_idle_connection(sink: SmtpSink) -> None:
    async with sender_for(sink) as sender:
        assert (await sender.send(FROM, "a@customer.example", message())).outcome == "accepted"
        sink.drop_connections()
        assert (await sender.send(FROM, "b@customer.example", message())).outcome == "accepted"
    received = sink.wait_for(2)
    assert [m.rcpt_tos for m in received] == [("a@customer.example",), ("b@customer.example",)]
    assert sink.connections == 2


async def test_each_message_is_received_at_most_once_across_faults() -> None:
    faults = {
        "greylist@customer.example": (Fault.RCPT_451, 1),
        "drop@customer.example": Fault.DROP_DURING_DATA,
    }
    with SmtpSink(faults=faults) as sink:
        data = {to: message(to) for to in ["ok@customer.example", *faults]}
        async with sender_for(sink) as sender:
            first = {to: (await sender.send(FROM, to, raw)).outcome for to, raw in data.items()}
            # The caller retries only RETRY outcomes; AMBIGUOUS is left to a human.
            for to, outcome in first.items():
                if outcome is SendOutcome.RETRY:
                    assert (await sender.send(FROM, to, data[to])).outcome == "accepted"
        assert first == {
            "ok@customer.example": SendOutcome.ACCEPTED,
            "greylist@customer.example": SendOutcome.RETRY,
            "drop@customer.example": SendOutcome.AMBIGUOUS,
        }
        ids = [m.message_id for m in sink.wait_for(2)]
        assert len(ids) == len(set(ids)) == 2


async def test_auth_success_and_failure() -> None:
    with SmtpSink(auth=("anna@acme.example", "s3cret")) as sink:
        ok = await send_one(sink, "erik@customer.example", password="s3cret")
        assert ok.outcome is SendOutcome.ACCEPTED
        bad = await send_one(sink, "erik@customer.example", password="wrong-pass")
        assert bad.outcome is SendOutcome.MAILBOX_ERROR
        assert bad.code == 535 and "anna@acme.example" in bad.message
        assert "wrong-pass" not in bad.message
        missing = await send_one(sink, "erik@customer.example", password=None)
        assert (missing.outcome, missing.code) == (SendOutcome.MAILBOX_ERROR, 530)
        assert len(sink.wait_for(1)) == 1


async def test_starttls_required_but_not_offered_is_a_mailbox_error(sink: SmtpSink) -> None:
    endpoint = parse_smtp_url(f"smtp+starttls://127.0.0.1:{sink.port}")
    async with SmtpSender(endpoint, password=None, timeout=2.0) as sender:
        result = await sender.send(FROM, "erik@customer.example", message())
    assert result.outcome is SendOutcome.MAILBOX_ERROR and "STARTTLS" in result.message


# Under CI the TLS tests always run (and fail loudly if openssl is missing).
needs_tls = pytest.mark.skipif(
    not tls_available() and not IN_CI, reason="the openssl CLI makes the test cert"
)


@needs_tls
@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_tls_modes_with_auth(mode: str) -> None:
    with SmtpSink(tls=mode, auth=("anna", "pw")) as sink:  # type: ignore[arg-type]
        result = await send_one(
            sink, "erik@customer.example", password="pw", tls_context=sink.client_tls_context()
        )
        assert result.outcome is SendOutcome.ACCEPTED, result.message
        assert len(sink.wait_for(1)) == 1


@needs_tls
async def test_untrusted_certificate_is_a_mailbox_error() -> None:
    with SmtpSink(tls="implicit") as sink:
        result = await send_one(
            sink, "erik@customer.example", tls_context=ssl.create_default_context()
        )
        assert result.outcome is SendOutcome.MAILBOX_ERROR
        assert "certificate" in result.message.lower()
        assert sink.messages == []


async def test_concurrent_callers_share_one_connection_in_turn(sink: SmtpSink) -> None:
    import asyncio

    async with sender_for(sink) as sender:
        results = await asyncio.gather(
            *(sender.send(FROM, f"p{i}@customer.example", message()) for i in range(10))
        )
    assert {r.outcome for r in results} == {SendOutcome.ACCEPTED}
    assert len(sink.wait_for(10)) == 10
    assert sink.connections == 1


async def test_before_data_runs_after_the_envelope_and_before_any_content(sink: SmtpSink) -> None:
    """The sender commits a message's start in this hook: by then MAIL FROM and RCPT TO were
    accepted, and no byte of the message has gone out (RFC 5321 §3.8: without its end of
    data a transaction is cancelled, so nothing can have been delivered yet)."""
    seen: list[int] = []

    async def before_data() -> None:
        seen.append(sink.data_received)

    async with sender_for(sink) as sender:
        result = await sender.send(
            FROM, "erik@customer.example", message(), before_data=before_data
        )
    assert result.outcome is SendOutcome.ACCEPTED
    assert seen == [0]  # called once, before the server saw any DATA
    assert len(sink.wait_for(1)) == 1


async def test_a_withdrawn_message_sends_nothing_and_the_connection_goes_on(
    sink: SmtpSink,
) -> None:
    """The hook raising (the message is no longer ours, or its start could not be committed)
    withdraws the envelope with RSET: nothing reaches the server, the error reaches the
    caller, and the same connection sends the next message."""

    class Withdrawn(Exception):
        pass

    async def withdraw() -> None:
        raise Withdrawn

    async with sender_for(sink) as sender:
        with pytest.raises(Withdrawn):
            await sender.send(FROM, "erik@customer.example", message(), before_data=withdraw)
        assert sink.data_received == 0
        result = await sender.send(FROM, "jana@customer.example", message("jana@customer.example"))
    assert result.outcome is SendOutcome.ACCEPTED
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == ("jana@customer.example",)
    assert sink.connections == 1
