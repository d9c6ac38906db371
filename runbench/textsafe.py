"""One escaping function for every string that reaches a terminal or stderr: `inert`.

The rule: `inert` returns one line of text that cannot drive a terminal or reorder what is around it.
Every character of these classes is replaced by a visible escape, and nothing else is touched:

- C0 controls U+0000-U+001F, newline and tab included (`\\n`, `\\t`, `\\r`; the others `\\x1b` style),
  DEL U+007F and the C1 controls U+0080-U+009F (`\\x7f`, `\\x9b`): ANSI/OSC sequences, bells, fake lines;
- every Unicode format character (category Cf): the bidi embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), the marks U+200E/U+200F/U+061C, zero-width characters (U+200B-U+200D, U+2060-U+2064,
  U+FEFF), the soft hyphen U+00AD, tag characters (U+E0000 block) and the rest: shown as `\\u202e`;
- the line and paragraph separators U+2028/U+2029, and lone surrogates (which cannot even be encoded as
  UTF-8): `\\u2028`, `\\udc80`. Code points beyond the BMP are shown as `\\U000e0041`.

Ordinary text (accents, CJK, emoji, symbols, rich markup such as `[red]`) is kept as it is. Emoji sequences
joined by U+200D show their joiners escaped. A backslash is not doubled: the result is for reading, not
for decoding back. With `limit`, a value longer than `limit` characters keeps its first `limit` characters
(counted before escaping) and ends in a marker `…(+N chars)`.
"""

from __future__ import annotations

import re

# Category Cf of Unicode 14.0 (Python 3.11's unicodedata), as ranges: computing it at import time costs
# 0.2 s. tests/unit/test_textsafe.py checks it against unicodedata of the running Python.
_FORMAT_CHARS = (
    r"\u00ad"
    r"\u0600-\u0605"
    r"\u061c"
    r"\u06dd"
    r"\u070f"
    r"\u0890-\u0891"
    r"\u08e2"
    r"\u180e"
    r"\u200b-\u200f"
    r"\u202a-\u202e"
    r"\u2060-\u2064"
    r"\u2066-\u206f"
    r"\ufeff"
    r"\ufff9-\ufffb"
    r"\U000110bd"
    r"\U000110cd"
    r"\U00013430-\U00013438"
    r"\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a"
    r"\U000e0001"
    r"\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_FORMAT_CHARS}]")
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inert(text: str, limit: int | None = None) -> str:
    """`text` as one line of inert text: controls, bidi and invisible format characters shown as escapes,
    cut after `limit` characters with a marker `…(+N chars)` (see the module docstring for the rule)."""
    if limit is not None and len(text) > limit:
        return f"{inert(text[:limit])}…(+{len(text) - limit} chars)"
    if text.isprintable():  # the common case, and 10x faster: no Cc, Cf, Cs, Zl or Zp character
        return text
    return _UNSAFE.sub(_escape, text)


def is_inert(text: str) -> bool:
    """True when `text` holds none of the characters `inert` escapes."""
    return _UNSAFE.search(text) is None
