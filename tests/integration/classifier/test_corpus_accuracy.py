"""The classifier against the shared labelled corpora (../shared/corpus/sisimai and public/),
scored by the same code as `kadenz inbound accuracy` (engine.inbound.accuracy).

Floors sit just under the figures published in docs/inbound.md; a change that lowers one
fails here. Labels we dispute after reading the message are in engine.inbound.label_notes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.inbound import accuracy, label_notes

# source → (class agreement, recipients) floors, in percent.
FLOORS = {
    "sisimai": (94.5, 98.0),
    "bounceparser": (99.0, 99.0),
    "flufl-testdata": (96.5, 95.5),
    "talon": (100.0, 100.0),
}


@pytest.fixture(scope="module")
def scores(corpus: Path) -> dict[str, accuracy.Scores]:
    found = accuracy.sources([corpus / "sisimai", corpus / "public"])
    return {source.name: accuracy.measure(source) for source in found}


def test_every_source_is_measured(scores: dict[str, accuracy.Scores]) -> None:
    assert set(scores) == set(FLOORS)


@pytest.mark.parametrize("source", sorted(FLOORS))
def test_corpus_accuracy(scores: dict[str, accuracy.Scores], source: str) -> None:
    s = scores[source]
    print("\n" + accuracy.markdown([s], details=True))
    agreement, recipients = FLOORS[source]
    assert (s.class_agreement.pct or 0.0) >= agreement
    assert (s.recipients.pct or 100.0) >= recipients
    assert (s.bounce_detection.pct or 100.0) >= 99.5
    assert s.non_bounces_flagged.ok == 0  # no success DSN, auto-reply or reply taken for a bounce
    assert s.auto_reply_detection.ok == s.auto_reply_detection.n
    assert s.eol_differences.ok == 0  # CRLF/CR copies answer like their LF original
    assert (s.intent.pct or 100.0) >= 90.0


def test_disputed_labels_name_real_files(corpus: Path) -> None:
    for source, notes in label_notes.DISPUTED.items():
        folder = corpus / source if source == "sisimai" else corpus / "public" / source
        names = {p.name for p in (folder / "eml").iterdir()}
        assert set(notes) <= names, source


def test_markdown_has_the_published_rows(scores: dict[str, accuracy.Scores]) -> None:
    table = accuracy.markdown(list(scores.values()))
    for row in (
        "class agreement",
        "bounce detection",
        "recipients",
        "hard vs rest",
        "non-bounces flagged",
        "auto-reply detection",
        "return dates",
        "intent",
        "Confusion matrix, sisimai",
    ):
        assert row in table
