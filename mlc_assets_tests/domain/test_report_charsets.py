"""Declared single-byte charsets take a splice transcoder; it must equal decode + encode."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_charsets import _SPLICE_MAX_SHARE, decode_text, transcode_declared
from mlc_assets.domain.settlement_report import parse_settlement_report

DATA = Path(__file__).parent / "data"
CODECS = ["iso-8859-1", "ISO-8859-15", "cp1252", "cp1250", "latin1"]


@pytest.mark.parametrize("charset", CODECS)
def test_every_defined_byte_transcodes_like_decode_then_encode(charset: str) -> None:
    defined = bytes(b for b in range(256) if _decodes(bytes([b]), charset))
    data = b"h\tx\n" + defined + b"\n" + defined[::-1] + _ascii_padding(2 * len(defined))
    fast = transcode_declared(data, charset)
    assert fast is not None
    text, codec = decode_text(data, charset, file_name="x")
    assert fast == (codec, text.encode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(CODECS))
def test_random_bytes_transcode_like_decode_then_encode(data: bytes, charset: str) -> None:
    data += _ascii_padding(len(data))
    fast = transcode_declared(data, charset)
    if not _decodes(data, charset):
        assert fast is None  # the generic path words the error
        return
    text, codec = decode_text(data, charset, file_name="x")
    assert fast == (codec, text.encode("utf-8"))


def test_undefined_byte_in_declared_code_page_still_names_the_line() -> None:
    data = (DATA / "de_v2_latin1.txt").read_bytes()
    lines = data.split(b"\n")
    lines[3] = lines[3] + b"\x81"  # undefined in cp1252
    with pytest.raises(SettlementFileError) as info:
        parse_settlement_report(b"\n".join(lines), file_name="bad.txt", charset="cp1252")
    assert info.value.line == 4


@pytest.mark.parametrize("charset", ["utf-8", "utf-16", "cp037", "cp932", "iso2022_jp", None])
def test_other_charsets_take_the_generic_path(charset: str | None) -> None:
    assert transcode_declared("é\t\n".encode(), charset) is None
    # Bytes that are all ASCII still mean something else in UTF-16 or ISO-2022-JP.
    assert transcode_declared(b"a\x00\t\x00" + _ascii_padding(1), charset) is None
    assert transcode_declared(b'\x1b$B$"\x1b(B\t' + _ascii_padding(1), charset) is None


def test_declared_latin1_file_parses_like_the_generic_path() -> None:
    data = (DATA / "de_v2_latin1.txt").read_bytes()
    fast = parse_settlement_report(data, file_name="de.txt", charset="iso-8859-1")
    generic = parse_settlement_report(
        data.decode("latin-1").encode("utf-8"), file_name="de.txt", charset="utf-8"
    )
    assert fast.lines.equals(generic.lines)
    assert fast.header == generic.header
    assert fast.detected["charset"] == "iso8859-1"


def _decodes(data: bytes, charset: str) -> bool:
    try:
        data.decode(charset)
    except UnicodeDecodeError:
        return False
    return True


def _ascii_padding(non_ascii: int) -> bytes:
    """Enough ASCII that the splice path (not the many-non-ASCII fallback) is taken."""
    return b"\tpad\n" * (_SPLICE_MAX_SHARE * non_ascii // 5 + 1)
