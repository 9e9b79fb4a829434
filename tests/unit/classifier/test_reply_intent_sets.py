"""Intent on a labelled set of replies in eight languages and eight quoting styles.

DEV is what the rule tables were written from; the HELD_OUT sets were written later, one after
the other, in other words, and each was measured before the rules were touched for it (the
first figures are in docs/inbound.md).
Run with `-s` to see the table.
"""

from __future__ import annotations

import pytest

from engine.core.classification import InboundClass
from engine.inbound.classifier.classify import classify
from tests.unit.classifier import reply_examples as rx

SETS = {
    "dev": rx.DEV,
    "held_out": rx.HELD_OUT,
    "held_out_2": rx.HELD_OUT_2,
    "held_out_3": rx.HELD_OUT_3,
}


def _score(examples: tuple[rx.Example, ...]) -> tuple[int, list[str]]:
    right, misses = 0, []
    for index, example in enumerate(examples):
        result = classify(rx.message(example, index))
        assert result.kind is InboundClass.HUMAN_REPLY
        got = str(result.intent)
        if got == example.intent and result.referral == example.referral:
            right += 1
        else:
            misses.append(
                f"{example.lang} {rx.style_of(index)}: {example.text!r} → {got} "
                f"(referral {result.referral}), want {example.intent} ({example.referral})"
            )
    return right, misses


@pytest.mark.parametrize("name", list(SETS))
def test_intent_accuracy_per_set(name: str) -> None:
    examples = SETS[name]
    right, misses = _score(examples)
    share = right / len(examples)
    print(f"\n{name}: {right}/{len(examples)} = {share:.1%}", *misses, sep="\n  ")
    assert share >= 0.95, misses


@pytest.mark.parametrize("index", range(len(rx.STYLES)))
def test_every_quoting_style_leaves_only_the_new_text(index: int) -> None:
    for lang in rx.ATTRIBUTION:
        example = rx.Example(lang, "Zwei Worte.", "neutral")
        result = classify(rx.message(example, index))
        assert result.reply_text == "Zwei Worte.", (rx.style_of(index), lang, result.reply_text)


def test_every_language_and_intent_is_covered() -> None:
    seen = {(e.lang, e.intent) for examples in SETS.values() for e in examples}
    for lang in rx.ATTRIBUTION:
        for intent in ("positive", "negative", "unsubscribe_request"):
            assert (lang, intent) in seen, (lang, intent)
