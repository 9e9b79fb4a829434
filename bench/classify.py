"""Figure 6 — inbound classification over the sisimai corpus, against bare parsing."""

from __future__ import annotations

import email

from bench.common import Options, Row, not_measured, rates, shared_corpus
from engine.inbound.classifier.classify import classify

CORPUS = shared_corpus() / "sisimai" / "eml"
TARGET = "≥ 500 msg/s"


def load_corpus(limit: int | None = None) -> list[bytes]:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    return [p.read_bytes() for p in files[:limit]]


def run(opts: Options) -> list[Row]:
    if not CORPUS.is_dir():
        return [not_measured("classification", f"corpus not found at {CORPUS}", TARGET)]
    raws = load_corpus(opts.classify_limit)
    label = f"classification ({len(raws)} sisimai messages)"

    def parse_all() -> int:
        for raw in raws:
            email.message_from_bytes(raw)
        return len(raws)

    parse_all()  # warm the email package's caches
    base = rates(parse_all, opts.runs, "msg/s")

    def classify_all() -> int:
        for raw in raws:
            classify(raw)
        return len(raws)

    classify_all()
    ours = rates(classify_all, opts.runs, "msg/s")
    return [Row(label, ours, base, TARGET, ours.median >= 500)]
