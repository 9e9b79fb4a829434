# ruff: noqa: E501  (expected diagnostics are easier to read on one line)
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sequence_language import markdown
from engine.sequence_language.model import EmailStep
from engine.sequence_language.render import (
    MissingVariable,
    Renderer,
    RenderError,
    one_line,
    prospect_context,
    reply_subject,
)

SENDER = {"name": "Anna Schmidt", "email": "anna@kadenz.example", "signature": "Anna\nSales"}


def email(**fields: object) -> EmailStep:
    return EmailStep.model_validate({"id": "intro", "email": fields})


def ctx(**prospect: object) -> dict[str, object]:
    return prospect_context(prospect, SENDER)


def test_prospect_context_leaves_out_empty_values_and_flattens_custom_fields() -> None:
    context = prospect_context(
        {
            "first_name": " Erik ",
            "last_name": "",
            "company": None,
            "email": "erik@acme.example",
            "custom": {"plan": "pro", "empty": "", "first_name": "shadow", "team size": 4},
        },
        {"name": "Anna Schmidt", "email": "anna@kadenz.example", "signature": None},
    )
    assert context["first_name"] == "Erik"
    assert "last_name" not in context and "company" not in context
    assert context["full_name"] == "Erik"
    assert context["plan"] == "pro"  # flattened
    assert context["custom"] == {"plan": "pro", "first_name": "shadow", "team size": 4}
    assert context["sender"] == {
        "name": "Anna Schmidt",
        "first_name": "Anna",
        "email": "anna@kadenz.example",
    }


def test_renders_subject_text_and_html_from_one_template() -> None:
    renderer = Renderer(
        {
            "intro.md.j2": "Hi {{ first_name }},\n\nyou run **{{ company }}**.\n\n{{ sender.signature }}\n"
        }
    )
    out = renderer.render_email(
        email(subject="Hi {{ first_name }}", template="intro.md.j2"),
        "default",
        ctx(first_name="Erik", company="Acme"),
    )
    assert out.subject == "Hi Erik"
    assert out.text == "Hi Erik,\n\nyou run Acme.\n\nAnna\nSales\n"  # no raw Markdown
    assert (
        out.html == "<p>Hi Erik,</p>\n<p>you run <strong>Acme</strong>.</p>\n<p>Anna<br>\nSales</p>"
    )


def test_missing_variable_without_default_refuses_to_render() -> None:
    renderer = Renderer({})
    step = email(subject="Hi {{ first_name }}", body="Hi {{ first_name }} at {{ company }}")
    context = ctx(company="Acme")
    assert renderer.missing_variables(step, context) == ["first_name"]
    with pytest.raises(MissingVariable) as exc:
        renderer.render_email(step, "default", context)
    assert exc.value.names == ["first_name"]
    assert "default" in str(exc.value)  # says how to fix


def test_defaults_and_is_defined_guards_render() -> None:
    renderer = Renderer({})
    step = email(
        subject="Hi {{ first_name | default('there') }}",
        body="{% if title is defined %}As {{ title }}, {% endif %}{{ custom.plan | d('free') }}",
    )
    assert renderer.missing_variables(step, ctx()) == []
    out = renderer.render_email(step, "default", ctx())
    assert out.subject == "Hi there"
    assert out.text == "free\n"
    out = renderer.render_email(step, "default", ctx(title="CTO", custom={"plan": "pro"}))
    assert out.text == "As CTO, pro\n"


def test_missing_custom_field_is_named() -> None:
    renderer = Renderer({})
    step = email(subject="s", body="Your plan: {{ custom.plan }}")
    assert renderer.missing_variables(step, ctx(custom={"seats": 3})) == ["custom.plan"]
    with pytest.raises(MissingVariable) as exc:
        renderer.render_email(step, "default", ctx(custom={"seats": 3}))
    assert exc.value.names == ["custom.plan"]


def test_values_are_escaped_in_html_and_never_read_as_markdown() -> None:
    renderer = Renderer({})
    step = email(
        subject="{{ company }}", body="Hello {{ company }}, see [our page]({{ custom.url }})"
    )
    hostile = ctx(
        company="**Acme** <script>alert(1)</script>", custom={"url": "javascript:alert(1)"}
    )
    out = renderer.render_email(step, "default", hostile)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<strong>" not in out.html  # the value's ** stays literal
    assert "href" not in out.html  # javascript: is never a link
    assert out.text.startswith("Hello **Acme** <script>")  # text part: as written


def test_safe_filter_cannot_inject_html() -> None:
    out = Renderer({}).render_email(
        email(subject="s", body="{{ company | safe }}"), "default", ctx(company="<b>x</b>")
    )
    assert out.html == "<p>&lt;b&gt;x&lt;/b&gt;</p>"


def test_subject_is_one_line() -> None:
    renderer = Renderer({})
    out = renderer.render_email(
        email(subject="Hi {{ company }}", body="b"),
        "default",
        ctx(company="Acme\r\nBcc: evil@example.com\0"),
    )
    assert out.subject == "Hi Acme Bcc: evil@example.com"
    assert one_line("a\n\tb\r\n") == "a b"


def test_thread_previous_uses_the_previous_subject() -> None:
    renderer = Renderer({})
    step = email(thread="previous", body="bump")
    assert (
        renderer.render_email(step, "default", ctx(), previous_subject="Hi Erik").subject
        == "Re: Hi Erik"
    )
    assert (
        renderer.render_email(step, "default", ctx(), previous_subject="RE: Hi").subject == "RE: Hi"
    )
    assert reply_subject("Re: x\n") == "Re: x"
    with pytest.raises(ValueError, match="pass its subject"):
        renderer.render_email(step, "default", ctx())


def test_variants_render_their_own_parts() -> None:
    renderer = Renderer({"a.md.j2": "A for {{ first_name }}", "b.md.j2": "B"})
    step = email(
        variants={
            "a": {"subject": "SA", "template": "a.md.j2"},
            "b": {"subject": "SB", "template": "b.md.j2"},
        }
    )
    assert renderer.render_email(step, "a", ctx(first_name="Erik")).text == "A for Erik\n"
    assert renderer.render_email(step, "b", ctx()).subject == "SB"
    assert renderer.missing_variables(step, ctx(), variant="b") == []
    assert renderer.missing_variables(step, ctx()) == ["first_name"]


def test_includes_render_and_count_for_missing_variables() -> None:
    renderer = Renderer(
        {"main.md.j2": "Hi\n\n{% include 'sig.md.j2' %}", "sig.md.j2": "{{ sender.nickname }}"}
    )
    step = email(subject="s", template="main.md.j2")
    assert renderer.missing_variables(step, ctx()) == ["sender.nickname"]


def test_render_text_for_calls_and_tasks() -> None:
    renderer = Renderer({})
    assert (
        renderer.render_text(
            "Call {{ full_name }} ({{ company }})",
            ctx(first_name="Erik", last_name="Berg", company="Acme"),
        )
        == "Call Erik Berg (Acme)"
    )
    with pytest.raises(MissingVariable):
        renderer.render_text("Call {{ phone }}", ctx())


def test_sandbox_refuses_unsafe_attribute_access() -> None:
    renderer = Renderer({})
    step = email(subject="s", body="{{ first_name.__class__.__mro__ }}")
    with pytest.raises(RenderError, match="unsafe"):
        renderer.render_email(step, "default", ctx(first_name="x"))


def test_templates_compile_once_per_renderer() -> None:
    renderer = Renderer({"t.md.j2": "Hi {{ first_name }}"})
    step = email(subject="s", template="t.md.j2")
    for name in ("Erik", "Jana"):
        assert renderer.render_email(step, "default", ctx(first_name=name)).text == f"Hi {name}\n"
    assert len(renderer._compiled) == 2  # subject + template, compiled once


# --- the Markdown-ish subset ----------------------------------------------------------


def test_markdown_subset() -> None:
    text = (
        "Hi *you*, _really_\nsecond line\n\n"
        "- one\n- **two**\n\n"
        "1. first\n2. second\n\n"
        "[Book](https://cal.example/a?x=1&y=2) or https://kadenz.example/docs. "
        "Or [bad](javascript:alert(1)) & <b>raw</b> and 2*3*4 and snake_case_name"
    )
    assert markdown.to_html(text) == (
        "<p>Hi <em>you</em>, <em>really</em><br>\nsecond line</p>\n"
        "<ul><li>one</li><li><strong>two</strong></li></ul>\n"
        "<ol><li>first</li><li>second</li></ol>\n"
        '<p><a href="https://cal.example/a?x=1&amp;y=2">Book</a> or '
        '<a href="https://kadenz.example/docs">https://kadenz.example/docs</a>. '
        "Or [bad](javascript:alert(1)) &amp; &lt;b&gt;raw&lt;/b&gt; and 2*3*4 and snake_case_name</p>"
    )


def test_markdown_values_keep_lines_and_links() -> None:
    values = ["Anna\nhttps://cal.example/anna", "<x>"]
    html = markdown.to_html(f"Hi {markdown.slot(1)}\n\n{markdown.slot(0)}", values)
    assert html == (
        "<p>Hi &lt;x&gt;</p>\n"
        '<p>Anna<br>\n<a href="https://cal.example/anna">https://cal.example/anna</a></p>'
    )


SHARED = Renderer({})
ALLOWED_TAG = r"</?(?:p|br|strong|em|ul|ol|li)>|<a href=\"[^\"<>]*\">|</a>"


@settings(max_examples=120, deadline=None)
@given(
    value=st.text(min_size=1).filter(str.strip),
    label=st.text(alphabet="ab*_[]()<>:/.\n -", max_size=30),
)
def test_no_value_can_inject_markup(value: str, label: str) -> None:
    step = email(
        subject="s", body="Hi **{{ company }}**, [x]({{ custom.url }}) " + label.replace("{", "")
    )
    out = SHARED.render_email(step, "default", ctx(company=value, custom={"url": value}))
    stripped = re.sub(ALLOWED_TAG, "", out.html)
    assert "<" not in stripped and ">" not in stripped
    for href in re.findall(r'<a href="([^"]*)">', out.html):
        assert href.startswith(("http://", "https://", "mailto:"))


def test_unknown_variant_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="has no variant 'c'"):
        Renderer({}).render_email(email(subject="s", body="b"), "c", ctx())
