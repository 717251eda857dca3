"""Reading a report's bytes as text: the declared charset, or the one the bytes show.

Amazon labels some documents with Java/HTTP charset names, sends EU files in ISO-8859-1 and
Japanese ones in Shift-JIS; an all-ASCII file is read without decoding, and a single-byte code
page is transcoded by splicing around its few non-ASCII bytes (fast on a million lines).
"""

from __future__ import annotations

import codecs
import functools

import charset_normalizer
import polars as pl
from charset_normalizer.utils import is_multi_byte_encoding

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_rows import MAX_BYTE_VIEW, byte_series

# Java/HTTP names that Python's codec registry does not know, as SP-API clients map them.
_CHARSET_ALIASES = {"windows-31j": "cp932", "x-windows-31j": "cp932", "ms932": "cp932"}


def decode_report_bytes(data: bytes, charset: str | None, *, file_name: str) -> str:
    """Bytes of a report download → text.

    ``charset`` comes from the download's Content-Type and wins when present. Without it:
    strict UTF-8 (which never mis-decodes valid non-UTF-8 text silently), then
    charset-normalizer's guess when it is a multi-byte encoding, then ISO-8859-1 (what
    Amazon's EU flat files use and SP-API clients fall back on; it decodes any bytes).
    """
    return decode_text(data, charset, file_name=file_name)[0]


def decode_text(data: bytes, charset: str | None, *, file_name: str) -> tuple[str, str]:
    if charset:
        name = charset.strip().strip("\"'").lower()
        name = _CHARSET_ALIASES.get(name, name)
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            raise SettlementFileError(f"unknown charset {charset!r}", file=file_name) from None
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise SettlementFileError(
                f"bytes are not valid {codec} as declared by the download (byte offset "
                f"{exc.start})",
                file=file_name,
                line=line,
            ) from None
        return text.removeprefix("\ufeff"), codec
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    # A multi-byte guess (cp932 for Amazon.co.jp, UTF-16) is strong evidence. Among the
    # single-byte code pages the guess is close to random on short Latin text (it calls
    # German ISO-8859-1 "cp1250", which turns French "è" into "č"), so those fall back on
    # ISO-8859-1; cp1252 only when the bytes use its 0x80-0x9F printable range (€, quotes).
    if best is not None and best.encoding and is_multi_byte_encoding(best.encoding):
        try:
            return data.decode(best.encoding).removeprefix("\ufeff"), best.encoding
        except (LookupError, UnicodeDecodeError):
            pass
    if any(0x80 <= b <= 0x9F for b in set(data)):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return data.decode("iso-8859-1"), "iso-8859-1"


# Charsets in which ASCII bytes mean ASCII characters (so an all-ASCII file is also UTF-8).
_ASCII_COMPATIBLE = frozenset({"utf-8", "ascii", "iso8859-1", "iso8859-15", "cp1252", "cp1250"})


def ascii_codec(data: bytes, charset: str | None) -> str | None:
    """The codec ``decode_text`` would report when the bytes are ASCII and need no decoding."""
    if not data.isascii():
        return None
    if charset is None:
        return "utf-8"  # strict UTF-8 is decode_text's first choice
    name = charset.strip().strip("\"'").lower()
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(name, name)).name
    except LookupError:
        return None  # decode_text words the error
    return codec if codec in _ASCII_COMPATIBLE else None


@functools.cache
def _single_byte_table(codec: str) -> tuple[bytes | None, ...] | None:
    """UTF-8 for each byte value in ``codec`` (None: the byte is undefined there).

    None (→ the generic decode) unless the codec is a known stateless single-byte code page
    in which every ASCII byte means itself: only then does a byte-by-byte rewrite keep the
    ASCII bytes, and with them every tab and newline, in place. Multi-byte and stateful
    codecs (UTF-16, cp932, ISO-2022-JP) give bytes meaning through their neighbours, so
    they never qualify, whatever single bytes happen to decode to.
    """
    if codec not in _SINGLE_BYTE_CODE_PAGES:
        return None
    table: list[bytes | None] = []
    for value in range(256):
        try:
            text = bytes([value]).decode(codec)
        except UnicodeDecodeError:
            if value < 0x80:
                return None
            table.append(None)
            continue
        if len(text) != 1 or (value < 0x80 and text != chr(value)) or text == "\ufeff":
            return None
        table.append(text.encode("utf-8"))
    return tuple(table)


# Python codec names (codecs.lookup(...).name) of the code pages the splice path serves.
_SINGLE_BYTE_CODE_PAGES = frozenset(
    {"iso8859-1", "iso8859-2", "iso8859-15", "cp1250", "cp1251", "cp1252"}
)


# Above this share of non-ASCII bytes the per-byte splice loses to one decode + encode.
_SPLICE_MAX_SHARE = 64


def transcode_declared(data: bytes, charset: str | None) -> tuple[str, bytes] | None:
    """(codec, UTF-8 bytes) for a declared single-byte charset; None → the generic path.

    Exactly ``data.decode(codec).encode("utf-8")``, but built from slices of ``data`` around
    its non-ASCII bytes: European files hold a few thousand such bytes in 170 MB, and the
    generic decode + encode of all of it costs more than reading the CSV. A byte the code
    page does not define also returns None, so ``decode_text`` words that error.
    """
    if not charset or len(data) > MAX_BYTE_VIEW:
        return None
    name = charset.strip().strip("\"'").lower()
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(name, name)).name
    except LookupError:
        return None
    table = _single_byte_table(codec)
    if table is None:
        return None
    high = (
        pl.LazyFrame({"byte": byte_series(data)})
        .with_row_index("at")
        .filter(pl.col("byte") >= 0x80)
        .select("at")
        .collect()
        .to_series()
    )
    if len(high) * _SPLICE_MAX_SHARE > len(data):
        return None
    buffer = memoryview(data)
    pieces: list[bytes | memoryview] = []
    start = 0
    for at in high.to_list():
        utf8 = table[data[at]]
        if utf8 is None:
            return None
        pieces.append(buffer[start:at])
        pieces.append(utf8)
        start = at + 1
    pieces.append(buffer[start:])
    return codec, b"".join(pieces)
