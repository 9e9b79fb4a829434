"""How well the classifier reads labelled public mail: the figures of docs/inbound.md.

A *source* is a folder with `eml/` (one message per file) and `labels.csv` (one row per
message and bounced recipient; the columns of the shared corpora's README), optionally
`labels_extra.csv` (bounces that state no reason: detection and recipients only). Scores are
per distinct message (`content_key`); the CRLF/CR copies of a message are checked for giving
the same answer as their LF original. Labels we disagree with after reading the message are
listed in `label_notes` and reported, with the figures both as labelled and without them.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.classification import BOUNCE_CLASSES, Classification
from engine.errors import InvalidInput
from engine.inbound import label_notes
from engine.inbound.classifier.classify import classify

BOUNCES = frozenset(c.value for c in BOUNCE_CLASSES)
UNSPECIFIED = "bounce_unspecified"  # labels_extra.csv: a bounce that states no reason
NON_BOUNCES = frozenset({"auto_reply", "delivered", "not_bounce", "human_reply"})
# A domain our address grammar (and any MTA) can route: dotted labels, a TLD of letters.
_DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
COLUMNS = (
    "hard_bounce",
    "soft_bounce",
    "blocked",
    "complaint",
    "delivered",
    "auto_reply",
    "human_reply",
    "unclassified",
)


@dataclass
class Row:
    file: str
    expected: str
    recipient: str
    content_key: str
    eol: str
    intent: str
    return_date: str


@dataclass
class Ratio:
    ok: int = 0
    n: int = 0

    def add(self, good: bool) -> None:
        self.n += 1
        self.ok += bool(good)

    @property
    def pct(self) -> float | None:
        return 100.0 * self.ok / self.n if self.n else None


@dataclass
class Scores:
    source: str
    files: int = 0
    messages: int = 0
    disputed: dict[str, str] = field(default_factory=dict)  # file → why the label is doubted
    class_agreement: Ratio = field(default_factory=Ratio)  # every labelled message
    class_agreement_as_labelled: Ratio = field(default_factory=Ratio)  # disputed included
    bounce_detection: Ratio = field(default_factory=Ratio)
    recipients: Ratio = field(default_factory=Ratio)
    hard_vs_rest: Ratio = field(default_factory=Ratio)  # among bounces
    non_bounces_flagged: Ratio = field(default_factory=Ratio)  # ok = flagged as a bounce
    auto_reply_detection: Ratio = field(default_factory=Ratio)
    return_dates: Ratio = field(default_factory=Ratio)
    intent: Ratio = field(default_factory=Ratio)
    eol_differences: Ratio = field(default_factory=Ratio)  # ok = copy differs
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    anonymised: list[str] = field(default_factory=list)  # "file: address" left out
    final_labels: list[str] = field(default_factory=list)  # label = Final-Recipient, left out
    misses: list[str] = field(default_factory=list)  # class disagreements
    recipient_misses: list[str] = field(default_factory=list)
    other_misses: list[str] = field(default_factory=list)  # dates, intents, auto-replies


def sources(paths: Iterable[Path]) -> list[Path]:
    """Each path is a source, or a folder of sources (e.g. corpus/public)."""
    found: list[Path] = []
    for path in paths:
        if (path / "labels.csv").is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if (p / "labels.csv").is_file()))
    return found


def _read_rows(path: Path, extra: bool = False) -> dict[str, list[Row]]:
    by_file: dict[str, list[Row]] = defaultdict(list)
    if not path.is_file():
        return by_file
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"file", "expected_class"} - set(reader.fieldnames or ())
        if missing and not extra:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for rec in reader:
            by_file[rec["file"]].append(
                Row(
                    file=rec["file"],
                    expected=UNSPECIFIED if extra else rec["expected_class"],
                    recipient=rec.get("recipient", "").strip().lower(),
                    content_key=rec.get("content_key") or rec["file"],
                    eol=rec.get("eol") or "lf",
                    intent=(rec.get("intent") or "").strip(),
                    return_date=(rec.get("return_date") or "").strip(),
                )
            )
    return by_file


def anonymised(address: str, raw: bytes) -> bool:
    """An address the fixture's anonymiser made unroutable (`a@b.c`, `x@#example.net`,
    `kijitora@exampl`) or a placeholder under `.invalid` that the message never names."""
    domain = address.rsplit("@", 1)[-1]
    if not _DOMAIN_RE.match(domain):
        return True
    return domain.endswith(".invalid") and address.encode() not in raw.lower()


def _row_for(rows: list[Row], result: Classification) -> Row:
    """With several recipients, score the class against the one we named first."""
    for row in rows:
        if result.recipients and row.recipient == result.recipients[0]:
            return row
    return rows[0]


def _agrees(expected: str, got: str) -> bool:
    if expected == "not_bounce":
        return got not in BOUNCES and got != "complaint"
    return got == expected


def measure(source: Path, classifier: Callable[[bytes], Classification] = classify) -> Scores:
    """Classify every labelled message of one source and score the answers."""
    by_file = _read_rows(source / "labels.csv")
    for name, rows in _read_rows(source / "labels_extra.csv", extra=True).items():
        by_file.setdefault(name, rows)
    notes = label_notes.DISPUTED.get(source.name, {})
    scores = Scores(source=source.name, files=len(by_file))
    raws: dict[str, bytes] = {}
    for name in by_file:
        try:
            raws[name] = (source / "eml" / name).read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"{source / 'labels.csv'}: row {name!r}: cannot read eml/{name}: "
                f"{exc.strerror or type(exc).__name__}"
            ) from exc
    out = {name: classifier(raw) for name, raw in raws.items()}
    representative: dict[str, str] = {}
    for name, rows in sorted(by_file.items(), key=lambda kv: (kv[1][0].eol != "lf", kv[0])):
        representative.setdefault(rows[0].content_key, name)
    scores.messages = len(representative)
    for name in sorted(representative.values()):
        _score_one(scores, name, by_file[name], out[name], raws[name], notes)
    for name, rows in sorted(by_file.items()):
        original = representative[rows[0].content_key]
        if name != original:
            a, b = out[name], out[original]
            differs = (a.kind, a.recipients, a.status) != (b.kind, b.recipients, b.status)
            scores.eol_differences.add(differs)
            if differs:
                scores.other_misses.append(f"{name}: answers differently from {original}")
    return scores


def _score_one(
    scores: Scores,
    name: str,
    rows: list[Row],
    result: Classification,
    raw: bytes,
    notes: dict[str, str],
) -> None:
    got = result.kind.value
    row = _row_for(rows, result)
    expected = row.expected
    if not expected:
        return
    if expected != UNSPECIFIED:
        scores.class_agreement_as_labelled.add(_agrees(expected, got))
    if name in notes:
        scores.disputed[name] = notes[name]
        return
    if expected != UNSPECIFIED:
        scores.confusion[expected][got] += 1
        scores.class_agreement.add(_agrees(expected, got))
        if not _agrees(expected, got):
            scores.misses.append(f"{name}: expected {expected}, got {got} ({result.evidence[-1]})")
    if expected in BOUNCES or expected == UNSPECIFIED:
        scores.bounce_detection.add(got in BOUNCES)
    if expected in BOUNCES:
        scores.hard_vs_rest.add((expected == "hard_bounce") == (got == "hard_bounce"))
    if expected in NON_BOUNCES:
        scores.non_bounces_flagged.add(got in BOUNCES)
    if expected == "auto_reply":
        scores.auto_reply_detection.add(got == "auto_reply")
        if got != "auto_reply":
            scores.other_misses.append(f"{name}: auto-reply read as {got}")
    if expected in BOUNCES or expected in (UNSPECIFIED, "complaint"):
        for each in rows:
            if not each.recipient:
                continue
            if anonymised(each.recipient, raw):
                scores.anonymised.append(f"{name}: {each.recipient}")
                continue
            forwarded = result.extra.get("final_recipients", "").split(",")
            if each.recipient not in result.recipients and each.recipient in forwarded:
                # The label names the forwarded-to Final-Recipient; we report the
                # Original-Recipient (RFC 3464 §2.3.1, the address we sent to).
                scores.final_labels.append(f"{name}: {each.recipient}")
                continue
            scores.recipients.add(each.recipient in result.recipients)
            if each.recipient not in result.recipients:
                scores.recipient_misses.append(
                    f"{name}: {each.recipient} not in {list(result.recipients)}"
                )
    if row.return_date:
        got_date = result.return_date.isoformat() if result.return_date else "none"
        scores.return_dates.add(got_date == row.return_date)
        if got_date != row.return_date:
            scores.other_misses.append(f"{name}: return date {got_date}, label {row.return_date}")
    if row.intent:
        got_intent = result.intent.value if result.intent else "none"
        scores.intent.add(got_intent == row.intent)
        if got_intent != row.intent:
            scores.other_misses.append(f"{name}: intent {got_intent}, label {row.intent}")


def _cell(ratio: Ratio) -> str:
    pct = ratio.pct
    return "—" if pct is None else f"{pct:.1f}% ({ratio.ok}/{ratio.n})"


def markdown(all_scores: list[Scores], details: bool = False) -> str:
    """The figures as Markdown: one summary table, then a confusion matrix per source."""
    names = [s.source for s in all_scores]
    lines = [
        "| metric | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("distinct messages (files)", [f"{s.messages} ({s.files})" for s in all_scores])
    row("labels disputed (left out below)", [str(len(s.disputed)) for s in all_scores])
    row("class agreement", [_cell(s.class_agreement) for s in all_scores])
    row("class agreement, as labelled", [_cell(s.class_agreement_as_labelled) for s in all_scores])
    row("bounce detection", [_cell(s.bounce_detection) for s in all_scores])
    row("recipients", [_cell(s.recipients) for s in all_scores])
    row("hard vs rest (among bounces)", [_cell(s.hard_vs_rest) for s in all_scores])
    flagged = [f"{s.non_bounces_flagged.ok} of {s.non_bounces_flagged.n}" for s in all_scores]
    row("non-bounces flagged as bounces", flagged)
    row("auto-reply detection", [_cell(s.auto_reply_detection) for s in all_scores])
    row("return dates", [_cell(s.return_dates) for s in all_scores])
    row("intent", [_cell(s.intent) for s in all_scores])
    eol = [f"{s.eol_differences.ok} of {s.eol_differences.n}" for s in all_scores]
    row("CRLF/CR copies answering differently", eol)
    row("anonymised recipients left out", [str(len(s.anonymised)) for s in all_scores])
    finals = [str(len(s.final_labels)) for s in all_scores]
    row("recipient labels naming Final- not Original-Recipient, left out", finals)
    for scores in all_scores:
        lines += ["", f"Confusion matrix, {scores.source} (rows: label, columns: answer):", ""]
        used = [c for c in COLUMNS if any(scores.confusion[e][c] for e in scores.confusion)]
        lines.append("| label \\ answer | " + " | ".join(used) + " |")
        lines.append("| --- |" + " ---: |" * len(used))
        for expected in sorted(scores.confusion):
            counts = scores.confusion[expected]
            cells = [str(counts[c]) if counts[c] else "·" for c in used]
            lines.append(f"| {expected} | " + " | ".join(cells) + " |")
        if scores.final_labels:
            lines += ["", "Labels naming the Final-Recipient: " + "; ".join(scores.final_labels)]
        if scores.anonymised:
            lines += ["", "Anonymised recipient labels left out: " + "; ".join(scores.anonymised)]
        if details:
            for title, items in (
                ("class disagreements", scores.misses),
                ("recipients missed", scores.recipient_misses),
                ("other misses", scores.other_misses),
                ("disputed labels", [f"{k}: {v}" for k, v in sorted(scores.disputed.items())]),
            ):
                if items:
                    lines += ["", f"{scores.source}: {title}:", *(f"- {i}" for i in items)]
    return "\n".join(lines)
