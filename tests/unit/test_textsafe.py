"""`inert`: every control, bidi and invisible format character shown as an escape; ordinary text kept."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from runbench.textsafe import inert, is_inert


@pytest.mark.parametrize("code", [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
def test_c0_del_and_c1_controls_are_escaped(code: int) -> None:
    out = inert(f"a{chr(code)}b")
    assert chr(code) not in out
    assert out.startswith("a\\") and out.endswith("b")
    assert is_inert(out)


def test_the_escapes_are_readable() -> None:
    assert inert("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert inert("\x9b31m") == "\\x9b31m"
    assert inert("\x00\x7f") == "\\x00\\x7f"
    assert inert("a\nb\tc\rd") == "a\\nb\\tc\\rd"  # one line, always
    assert inert("\u202eevil") == "\\u202eevil"
    assert inert("\U000e0041") == "\\U000e0041"


BIDI_AND_INVISIBLE = [
    0x061C,
    *range(0x200B, 0x2010),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    0xFEFF,
    0x00AD,
    0x180E,  # Mongolian vowel separator (Cf)
    0xFFF9,  # interlinear annotation anchor (Cf)
    0xE0001,  # language tag (Cf)
    0xE0041,  # tag latin capital A: "ASCII smuggling"
]


@pytest.mark.parametrize("code", BIDI_AND_INVISIBLE, ids=hex)
def test_bidi_and_invisible_characters_are_escaped(code: int) -> None:
    out = inert(f"x{chr(code)}y")
    assert chr(code) not in out
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    assert out == f"x{escape}y"


def test_every_format_character_of_this_python_is_escaped() -> None:
    missed = [hex(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf" and is_inert(chr(c))]
    assert not missed, (
        f"Cf characters of Unicode {unicodedata.unidata_version} not escaped: {missed}; "
        "add them to runbench/textsafe.py _FORMAT_CHARS"
    )


def test_lone_surrogates_are_escaped_and_the_result_encodes() -> None:
    out = inert("a\udc80b\ud800")
    assert out == "a\\udc80b\\ud800"
    out.encode("utf-8")  # would raise on a surrogate


def test_ansi_and_osc_sequences_become_text() -> None:
    hostile = "\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b]0;title\x1b\\"
    out = inert(hostile)
    assert "\x1b" not in out and "\x07" not in out
    assert out == ("\\x1b[31mred\\x1b[0m \\x1b]8;;http://evil\\x07link\\x1b]8;;\\x07 \\x1b]0;title\\x1b\\")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii with spaces and [red]markup[/red]",
        "café naïve Ærø Straße",
        "日本語のコンテナ 中文 한국어",
        "emoji 😀🐳🔥 👍🏽",
        "Ελληνικά Кириллица עברית العربية",
        "non\u00a0breaking and em\u2003space",
        "symbols ·…→ © ™ ✓",
        "back\\slash \\x1b stays",  # a literal backslash is not doubled
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert inert(text) == text
    assert is_inert(text)


def test_a_long_value_is_cut_with_a_marker() -> None:
    assert inert("x" * 300, limit=10) == "x" * 10 + "…(+290 chars)"
    assert inert("x" * 10, limit=10) == "x" * 10
    assert inert("x" * 1_000_000, limit=240).endswith("…(+999760 chars)")


def test_the_limit_counts_characters_before_escaping() -> None:
    out = inert("\x1b" * 20, limit=3)
    assert out == "\\x1b\\x1b\\x1b…(+17 chars)"


def test_no_limit_keeps_everything() -> None:
    assert inert("y" * 5000) == "y" * 5000
