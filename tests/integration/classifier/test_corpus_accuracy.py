"""The classifier against Sisimai's real-world bounce corpus (../shared/corpus/sisimai).

Scores are per distinct content (`content_key`): the CRLF and CR copies of a message are
checked separately, for giving the same answer as the LF original. Labels we believe are
wrong after reading the message are listed in KNOWN_LABEL_DISAGREEMENTS with the reason
and left out of the scores (not bent into the code).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.core.classification import BOUNCE_CLASSES, Classification, InboundClass
from engine.inbound.classifier.classify import classify

_USER_UNKNOWN = (
    "the server's own words say the address does not exist ({!r}); Sisimai calls it "
    "'{}' (rejected by a recipient-side filter, or after DATA) which the README maps to "
    "{}, but for a sender the address is dead: we classify hard_bounce and suppress it"
)


def _unknown(phrase: str, reason: str = "filtered", label: str = "blocked") -> str:
    return _USER_UNKNOWN.format(phrase, reason, label)


KNOWN_LABEL_DISAGREEMENTS: dict[str, str] = {
    "lhost-activehunter-02.eml": _unknown("User unknown in local recipient table"),
    "lhost-amazonses-02.eml": _unknown("Unknown user this-local-part-does-not-exist"),
    "lhost-amazonworkmail-02.eml": _unknown("5.2.1 ... User Unknown"),
    "lhost-apachejames-01.eml": _unknown("no such user here"),
    "lhost-courier-02.eml": _unknown("550 Unknown user"),
    "lhost-exchange2003-04.eml": _unknown("Recipient Not Found"),
    "lhost-mailfoundry-01.eml": _unknown("No such user here"),
    "lhost-mailru-07.eml": _unknown("550 : User unknown"),
    "lhost-mcafee-01.eml": _unknown("550 Unknown user"),
    "lhost-mcafee-04.eml": _unknown("No such user"),
    "lhost-mcafee-05.eml": _unknown("User not exist"),
    "lhost-messagingserver-03.eml": _unknown("550 User Unknown"),
    "lhost-messagingserver-06.eml": _unknown("5.2.1 ... User Unknown"),
    "lhost-messagingserver-08.eml": _unknown("550 : User unknown"),
    "lhost-mfilter-01.eml": _unknown("550 unknown user"),
    "lhost-mfilter-03.eml": _unknown("No such user"),
    "lhost-mxlogic-03.eml": _unknown("550 unknown user"),
    "lhost-office365-04.eml": _unknown("unknown recipient ... 550 : User unknown"),
    "lhost-postfix-03.eml": _unknown("550 Unknown user"),
    "lhost-postfix-35.eml": _unknown("550 : User unknown"),
    "lhost-sendmail-19.eml": _unknown("550 Unknown user"),
    "lhost-sendmail-27.eml": _unknown("User unknown"),
    "lhost-sendmail-40.eml": _unknown("550 Unknown user"),
    "lhost-sendmail-48.eml": _unknown("Recipient address rejected: User unknown"),
    "lhost-sendmail-50.eml": _unknown("550 : User unknown"),
    "lhost-sendmail-51.eml": _unknown("550 : User unknown"),
    "lhost-surfcontrol-01.eml": _unknown("No such user"),
    "lhost-x1-01.eml": _unknown("User unknown"),
    "lhost-x1-02.eml": _unknown("User unknown"),
    "lhost-x2-01.eml": _unknown("This user doesn't have a ... account"),
    "lhost-x2-02.eml": _unknown("This user doesn't have a ... account"),
    "lhost-yahoo-06.eml": _unknown("User unknown"),
    "lhost-zoho-02.eml": _unknown("Invalid Address ... User Unknown"),
    "lhost-zoho-03.eml": _unknown("User unknown"),
    "rfc3464-42.eml": _unknown("The email account that you tried to reach does not exist"),
    "rfc3464-57.eml": _unknown("550 : User unknown"),
    "rhost-nttdocomo-01.eml": _unknown("550 Unknown user"),
    "rhost-nttdocomo-02.eml": _unknown("550 Unknown user", "rejected"),
    "rhost-nttdocomo-03.eml": _unknown("550 Unknown user", "rejected"),
    "lhost-ezweb-02.eml": _unknown("550 user unknown (in reply to RCPT TO)", "suspend", "soft"),
    "lhost-powermta-01.eml": _unknown("550 5.2.1 ... User Unknown", "suspend", "soft"),
    "lhost-powermta-03.eml": _unknown("550 5.2.1 ... User Unknown", "suspend", "soft"),
    "rfc3464-01.eml": (
        "labelled soft_bounce/mailboxfull, but the DSN says Status 5.1.1 and "
        "'550 5.1.1 <userunknown@...>... User Unknown': a hard bounce"
    ),
    "lhost-postfix-05.eml": (
        "labelled hard_bounce, but the server answered 450 4.1.1: a temporary (4xx) reply "
        "is a soft bounce by our rules; we do not suppress on a deferral"
    ),
    "lhost-sendmail-14.eml": (
        "a person forwarded a bounce ('Fwd: Returned mail', From a human, every line quoted "
        "with '>'): it is a human reply for someone to read, not a bounce report"
    ),
    "lhost-v5sendmail-01.eml": (
        "recipient label 'kijitora@exampl' is truncated (no such domain), and the bounce's "
        "own text names no recipient: only the embedded copy has one, which we never blame"
    ),
    "arf-11.eml": (
        "recipient label is Sisimai's placeholder 'undisclosed-recipient-in-headers@…', "
        "not an address in the message"
    ),
    "arf-12.eml": (
        "recipient label is Sisimai's placeholder 'undisclosed-recipient-in-headers@…', "
        "not an address in the message"
    ),
    "arf-15.eml": (
        "recipient label is Sisimai's placeholder 'undisclosed-recipient-in-headers@…', "
        "not an address in the message"
    ),
}

BOUNCES = {c.value for c in BOUNCE_CLASSES}
NEVER_BOUNCE = {"auto_reply", "delivered", "not_bounce"}


@dataclass
class Row:
    file: str
    expected: str
    recipient: str
    content_key: str
    eol: str


def _rows(corpus: Path) -> dict[str, list[Row]]:
    by_file: dict[str, list[Row]] = defaultdict(list)
    with (corpus / "sisimai" / "labels.csv").open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            by_file[rec["file"]].append(
                Row(
                    rec["file"],
                    rec["expected_class"],
                    rec["recipient"].strip().lower(),
                    rec["content_key"],
                    rec["eol"],
                )
            )
    return by_file


def _row_for(rows: list[Row], result: Classification) -> Row:
    """With several recipients, score the class against the one we named first."""
    for row in rows:
        if result.recipients and row.recipient == result.recipients[0]:
            return row
    return rows[0]


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


@pytest.fixture(scope="module")
def results(corpus: Path) -> tuple[dict[str, list[Row]], dict[str, Classification]]:
    by_file = _rows(corpus)
    out = {name: classify((corpus / "sisimai" / "eml" / name).read_bytes()) for name in by_file}
    return by_file, out


def test_corpus_accuracy(
    results: tuple[dict[str, list[Row]], dict[str, Classification]], tmp_path: Path
) -> None:
    by_file, out = results
    # One representative per distinct content: the LF copy when there is one.
    representative: dict[str, str] = {}
    for name, rows in sorted(by_file.items(), key=lambda kv: kv[1][0].eol != "lf"):
        representative.setdefault(rows[0].content_key, name)

    counts: dict[str, int] = defaultdict(int)
    agreement: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    recipient_misses: list[str] = []
    for name in representative.values():
        rows, result = by_file[name], out[name]
        if name in KNOWN_LABEL_DISAGREEMENTS:
            counts["excluded"] += 1
            continue
        expected = rows[0].expected
        got = result.kind.value
        if expected in BOUNCES:
            counts["bounces"] += 1
            counts["detected"] += got in BOUNCES
            row = _row_for(rows, result)
            agreement[row.expected][1] += 1
            agreement[row.expected][0] += got == row.expected
            counts["agree"] += got == row.expected
            if got != row.expected:
                misses.append(f"{name}: expected {row.expected}, got {got} ({result.evidence[-1]})")
        elif expected in NEVER_BOUNCE:
            counts["non_bounces"] += 1
            counts["false_bounces"] += got in BOUNCES
            counts["other_agree"] += got == expected or (expected == "not_bounce")
        elif expected == "complaint":
            counts["complaints"] += 1
            counts["complaints_ok"] += got == "complaint"
        if expected in BOUNCES or expected == "complaint":
            for row in rows:
                if row.recipient:
                    counts["recipients"] += 1
                    counts["recipients_ok"] += row.recipient in result.recipients
                    if row.recipient not in result.recipients:
                        recipient_misses.append(
                            f"{name}: {row.recipient} not in {list(result.recipients)}"
                        )

    # Line endings: the CRLF and CR copies must read exactly like their LF original.
    eol_diffs = []
    for name, rows in by_file.items():
        original = representative[rows[0].content_key]
        if name != original:
            a, b = out[name], out[original]
            if (a.kind, a.recipients, a.status) != (b.kind, b.recipients, b.status):
                eol_diffs.append(f"{name}: {a.kind}/{a.recipients} vs {b.kind}/{b.recipients}")

    detection = _pct(counts["detected"], counts["bounces"])
    agree = _pct(counts["agree"], counts["bounces"])
    recipients = _pct(counts["recipients_ok"], counts["recipients"])
    complaints = _pct(counts["complaints_ok"], counts["complaints"])
    lines = [
        "Sisimai corpus: "
        f"{len(by_file)} files, {len(representative)} distinct messages, "
        f"{counts['excluded']} excluded as label disagreements",
        f"{'metric':<44}{'value':>10}{'n':>7}",
        f"{'bounce detected (hard/soft/blocked)':<44}{detection:>9.1f}%{counts['bounces']:>7}",
        f"{'bounce class agrees with label':<44}{agree:>9.1f}%{counts['bounces']:>7}",
    ]
    for label in ("hard_bounce", "soft_bounce", "blocked"):
        ok, n = agreement[label]
        lines.append(f"{'  ' + label + ' agreement':<44}{_pct(ok, n):>9.1f}%{n:>7}")
    lines += [
        f"{'recipient extracted (bounce + complaint rows)':<44}{recipients:>9.1f}%"
        f"{counts['recipients']:>7}",
        f"{'complaints detected':<44}{complaints:>9.1f}%{counts['complaints']:>7}",
        f"{'auto-reply/delivered/other taken for bounce':<44}{counts['false_bounces']:>10}"
        f"{counts['non_bounces']:>7}",
        f"{'CR/CRLF copies differing from LF original':<44}{len(eol_diffs):>10}",
    ]
    report = "\n".join(
        [
            *lines,
            "",
            "class disagreements not in the list:",
            *misses,
            "",
            "recipients not extracted:",
            *recipient_misses,
        ]
    )
    (tmp_path / "corpus_accuracy.txt").write_text(report + "\n", encoding="utf-8")
    print("\n" + report)

    assert counts["false_bounces"] == 0
    assert eol_diffs == []
    assert detection >= 99.5
    assert recipients >= 97.5
    assert agree >= 93.0
    assert complaints >= 95.0


def test_disagreements_name_real_files(corpus: Path) -> None:
    names = set(_rows(corpus))
    assert set(KNOWN_LABEL_DISAGREEMENTS) <= names


def test_delivered_and_auto_replies_are_never_bounces(
    results: tuple[dict[str, list[Row]], dict[str, Classification]],
) -> None:
    by_file, out = results
    for name, rows in by_file.items():
        if rows[0].expected in ("delivered", "auto_reply"):
            assert out[name].kind.value == rows[0].expected, name
            assert out[name].kind not in BOUNCE_CLASSES
    assert InboundClass.DELIVERED.value == "delivered"
