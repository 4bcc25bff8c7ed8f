"""RFC 3676 unflowing on its own: quote depths are paragraphs of their own, space-stuffing is undone, the
signature separator never flows, DelSp removes exactly the added space."""

from __future__ import annotations

from threadline.channels.email.flowed import unflow


def test_quoted_flowed_lines_join_within_their_depth_only():
    text = "> the order shipped \r\n> yesterday.\r\n>> older \r\n>> text\r\nMy answer \r\ncontinues.\r\n"
    assert unflow(text) == "> the order shipped yesterday.\n>> older text\nMy answer continues.\n"


def test_a_flowed_line_before_a_depth_change_ends_its_paragraph():
    assert unflow("> quoted but flowed \r\nnew text") == "> quoted but flowed \nnew text"


def test_space_stuffing_and_the_signature_separator():
    assert unflow("  From here\r\n-- \r\nSig") == " From here\n-- \nSig"


def test_delsp_drops_only_the_added_space():
    assert unflow("long wo\r\nrd", delsp=True) == "long wo\nrd"
    assert unflow("long wo \r\nrd", delsp=True) == "long word"
    assert unflow("two words \r\njoined", delsp=False) == "two words joined"
