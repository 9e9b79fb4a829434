from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.mail.headers import HeaderInjection, safe_header_value


def test_plain_value_is_trimmed() -> None:
    assert safe_header_value("Subject", "  Hello there \t") == "Hello there"


@pytest.mark.parametrize("bad", ["a\r\nBcc: x@evil.example", "a\nb", "a\rb", "a\x00b"])
def test_line_breaks_and_nul_are_refused_naming_the_header(bad: str) -> None:
    with pytest.raises(HeaderInjection, match="header Subject") as caught:
        safe_header_value("Subject", bad)
    assert isinstance(caught.value, InvalidInput)
    assert "\n" not in str(caught.value)  # the message itself stays one line
