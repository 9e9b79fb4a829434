"""Hostile-input fuzzing of the four parsers (issue 19): YAML sequences, CSV imports,
templates and inbound mail. Each input gives a result or one clear line — never a
traceback — in bounded time and memory.

The same targets and strategies run in the test suite with a modest example count
(tests/unit/security/test_fuzz_parsers.py) and here with a large one; this figure reports
the slowest example and the peak memory of any, next to a same-run baseline: the plain
library parse (yaml, csv, jinja2, email) of the same inputs.
"""

from __future__ import annotations

import csv
import email
import io
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.common import Options, Row, Sample
from engine.errors import KadenzError
from engine.inbound.classifier.classify import classify
from engine.people import csv_import, field_map
from engine.sequence_language import loader
from engine.sequence_language.render import Renderer

# --- strategies: inputs assembled from the fragments that break parsers ----------------------

_YAML_BITS = [
    "key: fuzz\n", "name: Fuzz\n", "steps:\n", "  - id: intro\n",
    "    email: {subject: Hi, body: x}\n",
    "  - wait: 2 days\n", "&a ", "*a", "<<: *a\n", "[", "]", "{", "}", ": ", "- ", "\t", "'", '"',
    "? ", "!!python/object:os.system ", "%YAML 1.1\n", "---\n", "...\n", "2026-13-45", "\x00",
    "\ufeff", "rules:\n", "  - when: {reply: negative}\n", "    then: {move_to: fuzz}\n",
    "schedule: {cron: '0 0 31 2 *'}\n", "x: " + "[" * 70, "]" * 70, "\n", "  ", "#",
]  # fmt: skip
_CSV_BITS = [
    "email", "first_name", "company", "owner", ",", ";", "\t", "|", '"', '""', "\n", "\r\n",
    "a@acme.example", "B@Acme.Example", "not-an-email", "=1+2", "@SUM(A1)", "Müller", "\x00",
    "\ufeff", " ", "x" * 300,
]  # fmt: skip
_JINJA_BITS = [
    "{{ ", " }}", "{% ", " %}", "{# ", " #}", "for i in range(", "10**6", ")", "endfor",
    "if ", "endif", "first_name", "company", " | upper", " | wordwrap", " | center(", "99999999",
    "'x' * ", "2000000000", "macro f(n)", "f(n)", "endmacro", "lipsum", "cycler", "range",
    "__class__", ".__mro__", "[0]", "~", "Hi ", "\n", "{{", "}}", "%}", "{%", "**", "9",
]  # fmt: skip
_MAIL_BITS = [
    b"From: a@b.example\r\n", b"To: anna@acme.example\r\n", b"Subject: =?utf-8?b?SGk=?=\r\n",
    b"Message-ID: <m@b.example>\r\n", b"In-Reply-To: <x@acme.example>\r\n",
    b"References: " + b"<r@x.example> " * 50 + b"\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
    b"Content-Type: text/plain; charset=bogus\r\n", b"Auto-Submitted: auto-replied\r\n",
    b"\r\n", b"--b\r\n", b"--b--\r\n", b"Status: 5.1.1\r\n", b"Final-Recipient: rfc822; x@y\r\n",
    b"Action: failed\r\n", b"Content-Type: message/delivery-status\r\n", b"\xff\xfe\x00",
    b"Hello, I am out of office until 2026-02-30.\r\n", b"=?x?q?broken", b" folded\r\n",
]  # fmt: skip


def _joined(bits: list[Any], empty: Any) -> st.SearchStrategy[Any]:
    return st.lists(st.sampled_from(bits), max_size=40).map(lambda xs: empty.join(xs))


YAML = _joined(_YAML_BITS, "") | st.text(max_size=300)
CSV = _joined(_CSV_BITS, "").map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(
    max_size=400
)
TEMPLATE = _joined(_JINJA_BITS, "") | st.text(max_size=200)
MAIL = _joined(_MAIL_BITS, b"") | st.binary(max_size=600)


# --- targets: each returns normally, or raises AssertionError naming what broke ----------------


def one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text and "\n" not in text.strip() and "Traceback" not in text, repr(text)


def yaml_target(folder: Path) -> Callable[[str], None]:
    path = folder / "fuzz.yaml"

    def run(source: str) -> None:
        path.write_text(source, encoding="utf-8", errors="surrogatepass")
        try:
            loader.load_sequence(path, templates_dir=folder)
        except KadenzError as exc:
            for diagnostic in getattr(exc, "diagnostics", []):
                one_line(diagnostic)

    return run


def csv_target(folder: Path) -> Callable[[bytes], None]:
    path = folder / "fuzz.csv"

    def run(data: bytes) -> None:
        path.write_bytes(data)
        try:
            source = csv_import.open_csv(path, field_map.parse_map(None))
        except KadenzError as exc:
            one_line(exc)
            return
        cache = csv_import.AddressCache()
        for row, record in csv_import.iter_records(source):
            _, issues = csv_import.clean(source, row, record, cache=cache)
            for issue in issues:
                assert "\n" not in issue.message, issue

    return run


def template_target(source: str) -> None:
    try:
        Renderer({}).render_text(source, {"first_name": "Erik", "company": "Acme"})
    except KadenzError as exc:
        one_line(exc)


def mail_target(raw: bytes) -> None:
    result = classify(raw)  # never raises: malformed mail is `unclassified`, with evidence
    assert result.kind is not None and isinstance(result.evidence, tuple)


def run_all(examples: int, record: Callable[[str, float, int], None] | None = None) -> None:
    """Run every target over `examples` generated inputs each (Hypothesis), recording the
    seconds and peak traced bytes of each example when `record` is given."""
    fuzz = settings(
        max_examples=examples,
        deadline=None,  # no timing assertions: the bench reports the slowest example
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    with tempfile.TemporaryDirectory(prefix="kadenz-fuzz-") as folder:
        targets: list[tuple[str, Any, Callable[[Any], None]]] = [
            ("yaml", YAML, yaml_target(Path(folder))),
            ("csv", CSV, csv_target(Path(folder))),
            ("template", TEMPLATE, template_target),
            ("inbound", MAIL, mail_target),
        ]
        for name, strategy, target in targets:
            given(strategy)(fuzz(_measured(name, target, record)))()


def _measured(
    name: str, target: Callable[[Any], None], record: Callable[[str, float, int], None] | None
) -> Callable[[Any], None]:
    def measured(value: Any) -> None:
        tracemalloc.start()
        start = time.perf_counter()
        try:
            target(value)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 200_000_000, f"{name}: {peak:,} bytes for one input"
        if record is not None:
            record(name, time.perf_counter() - start, peak)

    return measured


def _baseline_parse(examples: int) -> float:
    """Seconds the plain libraries take on the same number of small benign inputs."""
    from jinja2 import Environment
    from ruamel.yaml import YAML as RuamelYAML

    ruamel = RuamelYAML(typ="safe", pure=True)
    env = Environment(autoescape=True)
    start = time.perf_counter()
    for i in range(examples):
        ruamel.load("key: x\nsteps: [1, 2]\n")
        list(csv.reader(io.StringIO("email,a\nx@y.example,b\n")))
        env.from_string("Hi {{ n }}").render(n=i)
        email.message_from_bytes(b"From: a@b.example\r\n\r\nhi\r\n")
    return time.perf_counter() - start


def run(opts: Options) -> list[Row]:
    examples = 200 if opts.quick else 5_000
    slowest: dict[str, float] = {}
    peak: dict[str, int] = {}

    def record(name: str, seconds: float, bytes_: int) -> None:
        slowest[name] = max(slowest.get(name, 0.0), seconds)
        peak[name] = max(peak.get(name, 0), bytes_)

    start = time.perf_counter()
    run_all(examples, record)
    total = time.perf_counter() - start
    base = _baseline_parse(examples)
    rows = [
        Row(
            f"fuzz: {examples:,} hostile inputs × 4 parsers, all refused or parsed in one line",
            Sample([total], "s"),
            Sample([base], "s"),
            "no traceback",
            True,
            note="baseline: plain ruamel/csv/jinja2/email on benign inputs, same count",
            higher_is_better=False,
        )
    ]
    for name in sorted(slowest):
        rows.append(
            Row(
                f"fuzz {name}: slowest input / peak memory of one input",
                Sample([slowest[name] * 1000], "ms"),
                None,
                "bounded",
                None,
                note=f"peak {peak[name] / 2**20:.1f} MB",
            )
        )
    return rows
