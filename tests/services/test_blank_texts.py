"""A text of nothing but characters nobody sees is blank: refused as a name, a password or a
note, as one of spaces is (helper-89 wrote all three with U+200B alone)."""

import pytest

from arrears.domain.errors import Refusal
from arrears.domain.invisible import is_blank, visible
from arrears.domain.staff import check_display_name
from arrears.services.content_check import written
from arrears.services.identity import check_password

NOTHING_SHOWN = ["\u200b", "\ufeff", "\u202e\u200f", " \u2060 ", "\u3164", "\ufe0f\u034f"]


@pytest.mark.parametrize("text", NOTHING_SHOWN)
def test_a_text_of_characters_nobody_sees_is_blank_everywhere(text: str) -> None:
    assert is_blank(text)
    assert written(text, []) is None  # the desk: "a note cannot be empty"
    with pytest.raises(Refusal, match="display name cannot be blank"):
        check_display_name(text)
    with pytest.raises(Refusal, match="a password cannot be blank"):
        check_password(text * 12)


def test_what_shows_is_kept_as_written() -> None:
    assert not is_blank("\u200b张\u200d三")
    assert visible("\u200b张\u200d三\u200e") == "张三"
    kept = written(" 张\u200b三 ", [])
    assert kept is not None
    assert kept.text == "张\u200b三"  # stored as written: only its ends' spaces trimmed
