"""The HTML of a body is planned once per text (values left as holes) and filled per render;
that must give exactly what converting the text with its values in full gives."""

from __future__ import annotations

import itertools

from engine.sequence_language import markdown
from engine.sequence_language.markdown import slot

S0, S1, S2 = slot(0), slot(1), slot(2)
TEXTS = [
    f"Hi {S0},\n\nhow does {S1} book demos?\n\nBest,\n{S2}",
    f"**{S0}** and *{S1}* and _{S2}_",
    f"- one {S0}\n- two **{S1}**\n\n1. first\n2. {S2}",
    f"see [our site](https://acme.example/{S0}) or [{S1}](https://acme.example)",
    f"[click]({S0}) and https://acme.example/x?a=1 and mailto:{S1}",
    f"plain line\nsecond line {S0}\n\n\n\nafter blank lines {slot(5)}",
    f"a literal \ue002 1 \ue003 beside {S0}",
    "no values at all: **bold**, [link](https://acme.example), 3 < 4 & 5 > 2",
    f"{S0}{S1}{S2}",
]
VALUES = [
    ("Erik", "Acme GmbH", "Anna"),
    ("**Acme**", "[x](javascript:alert(1))", "<b>&amp;</b>"),
    ("line one\nline two", "https://evil.example/a", "mailto:x@y.example"),
    ("", "", ""),
    ("https://acme.example/ok", "javascript:alert(1)", 'O\'Brien "Bob"'),
]


def test_planned_html_equals_the_full_conversion() -> None:
    planned = [t for t in TEXTS if markdown._plan(t) is not None]
    assert len(planned) == len(TEXTS) - 3  # not: two values in URLs, one literal hole mark
    for text, values in itertools.product(TEXTS, VALUES):
        assert markdown.to_html(text, values) == markdown._convert(text, values), (text, values)


def test_a_value_in_a_link_url_is_converted_in_full_every_time() -> None:
    text = f"[book]({S0})"
    assert markdown._plan(text) is None
    assert markdown.to_html(text, ["https://cal.example/anna"]) == (
        '<p><a href="https://cal.example/anna">book</a></p>'
    )
    assert markdown.to_html(text, ["javascript:alert(1)"]) == "<p>[book](javascript:alert(1))</p>"


def test_values_stay_escaped_when_planned() -> None:
    text = f"Hi {S0}, **{S1}**"
    assert markdown._plan(text) is not None
    html = markdown.to_html(text, ["<script>", "**x**"])
    assert html == "<p>Hi &lt;script&gt;, <strong>**x**</strong></p>"
