"""File names as text every output can hold.

A zip made on a Chinese Windows keeps its names' GBK bytes; unpacked on Linux, such a name is
not UTF-8, and Python holds each byte it cannot decode as a lone surrogate (U+DC80–U+DCFF),
while a pair of GBK bytes that happens to be valid UTF-8 becomes some other character. The file
opens by that name (``xlcrm.preflight.calamine_at``), but no output can hold the surrogates: a
UTF-8 terminal, polars, DuckDB and XML all refuse them. What is shown is each such part of a
path (between separators) as its bytes read as GB 18030 (GBK's superset), else as UTF-8 with
U+FFFD for each byte that reads as nothing.
"""

from __future__ import annotations

import codecs
import re
import sys

_SURROGATE = re.compile("[\udc80-\udcff]")
_PART = re.compile(r"[^/\\]+")
# What decoding GBK bytes as UTF-8 can give after a first undecodable byte: more of them, or a
# two-byte character (U+0080–U+07FF); a Chinese character of real UTF-8 text is not among them.
_GARBLED = re.compile("[\udc80-\udcff\u0080-\u07ff]+")
ERRORS = "xlcrm-names"  # the error handler of xlcrm's stdout and stderr


def _decoded(part: str) -> str:
    raw = part.encode("utf-8", "surrogateescape")  # the name's own bytes
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def shown(text: str) -> str:
    """``text`` with each part of a path that holds undecodable bytes read as GB 18030."""
    if not _SURROGATE.search(text):
        return text
    return _PART.sub(lambda m: _decoded(m.group()) if _SURROGATE.search(m.group()) else m.group(), text)


def _handler(error: UnicodeError) -> tuple[bytes, int]:
    """An encoder's replacement for a name's undecodable bytes (and what follows them of it).

    The text before the first such byte is written already; the replacement takes the run from
    it on. It is bytes: the UTF-8 encoder takes no replacement text that is not ASCII.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    garbled = _GARBLED.match(error.object, error.start)
    if garbled is None or not _SURROGATE.match(error.object, error.start):
        return b"?" * (error.end - error.start), error.end
    return _decoded(garbled.group()).encode(error.encoding, "replace"), garbled.end()


def guard_streams() -> None:
    """Write stdout and stderr so that a file's name never stops the output (module docstring)."""
    codecs.register_error(ERRORS, _handler)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=ERRORS)
