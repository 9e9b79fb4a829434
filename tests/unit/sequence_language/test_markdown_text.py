"""The plain-text part reads as a plain email: no raw Markdown, values never interpreted."""

from __future__ import annotations

from engine.sequence_language import markdown
from engine.sequence_language.markdown import slot

S0, S1 = slot(0), slot(1)


def test_markdown_becomes_readable_text() -> None:
    body = (
        'Reply **"close"** and I will stop.\n'
        "Here is the [case study](https://acme.example/case) and *why* it _matters_.\n"
        "\n"
        "- one\n"
        "- two\n"
        "More: https://acme.example/more."
    )
    assert markdown.to_text(body) == (
        'Reply "close" and I will stop.\n'
        "Here is the case study (https://acme.example/case) and why it matters.\n"
        "\n"
        "- one\n"
        "- two\n"
        "More: https://acme.example/more."
    )


def test_values_are_put_back_raw_and_never_read_as_markdown() -> None:
    body = f"Hi {S0}, see [your page]({S1}) and **{S0}**"
    text = markdown.to_text(body, ["**Acme** [x](javascript:y)", "https://cal.example/anna"])
    assert text == (
        "Hi **Acme** [x](javascript:y), see your page (https://cal.example/anna) and "
        "**Acme** [x](javascript:y)"
    )


def test_unsafe_links_and_plain_stars_stay_as_written() -> None:
    assert markdown.to_text("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert markdown.to_text("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"
