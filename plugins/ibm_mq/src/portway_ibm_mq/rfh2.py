"""MQRFH2, the rules and formatting header JMS puts in front of a message body.

Laid out as IBM's MQRFH2 reference says: a 36-byte fixed part (StrucId
``"RFH "``, Version 2, StrucLength, then Encoding, CodedCharSetId and Format
of what *follows* the header, Flags, NameValueCCSID), then pairs of a 4-byte
NameValueLength and that many bytes of folder text, padded to a multiple of
4. The integers are in the encoding given by the structure in front (the
MQMD for the first header), so a chain of headers can change byte order on
the way. A Format of ``MQHRF2`` means another MQRFH2 follows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from portway_ibm_mq import folders

STRUC_ID = b"RFH "
FIXED_LENGTH = 36
FMT_RF_HEADER_2 = "MQHRF2"
ENCODING_NATIVE = 546  # MQENC_NATIVE on x86 and ARM Linux
CCSID_UTF8 = 1208
_UTF16 = (1200, 13488, 17584)
_FIXED = {"<": struct.Struct("<4siiii8sii"), ">": struct.Struct(">4siiii8sii")}
_LENGTH = {"<": struct.Struct("<i"), ">": struct.Struct(">i")}


class RFH2Error(ValueError):
    """A malformed MQRFH2; the message says which header, where, and what is wrong."""


@dataclass(frozen=True)
class Folder:
    """One folder: its name (``mcd``, ``jms``, ``usr``...), its typed properties and its text."""

    name: str
    properties: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Header:
    """One MQRFH2. Encoding, CCSID and Format describe what follows it."""

    encoding: int
    coded_char_set_id: int
    format: str
    flags: int
    name_value_ccsid: int
    folders: tuple[Folder, ...]


@dataclass(frozen=True)
class Unwrapped:
    """A body with its MQRFH2 headers taken off, and what describes the data left."""

    headers: tuple[Header, ...]
    data: bytes
    format: str
    encoding: int
    coded_char_set_id: int


def byte_order(encoding: int) -> str:
    """``struct``'s byte order for an MQENC value: MQENC_INTEGER_NORMAL (1) is big endian."""
    return ">" if encoding & 0x0F == 1 else "<"


def unwrap(body: bytes, format: str, encoding: int, ccsid: int) -> Unwrapped:
    """Take every MQRFH2 off the front of ``body`` (described by ``format``/``encoding``/``ccsid``)."""
    headers: list[Header] = []
    at = 0
    while format == FMT_RF_HEADER_2:
        header, length = _header(body, at, encoding, len(headers) + 1)
        headers.append(header)
        at += length
        format, encoding, ccsid = header.format, header.encoding, header.coded_char_set_id
    return Unwrapped(tuple(headers), body[at:] if at else body, format, encoding, ccsid)


def _header(body: bytes, at: int, encoding: int, number: int) -> tuple[Header, int]:
    def fail(problem: str) -> RFH2Error:
        return RFH2Error(f"MQRFH2 header {number} (at byte {at}): {problem}")

    left = len(body) - at
    if left < FIXED_LENGTH:
        raise fail(f"only {left} bytes left, the fixed part alone is {FIXED_LENGTH}")
    order = byte_order(encoding)
    struc_id, version, length, enc, ccsid, fmt, flags, nv_ccsid = _FIXED[order].unpack_from(body, at)
    if struc_id != STRUC_ID:
        raise fail(f"StrucId is {struc_id!r}, not {STRUC_ID!r}")
    if version != 2:
        raise fail(f"Version is {version}, expected 2 (is the MQMD Encoding {encoding} right?)")
    if length < FIXED_LENGTH or length % 4:
        raise fail(f"StrucLength {length} is not a multiple of 4 of at least {FIXED_LENGTH}")
    if length > left:
        raise fail(f"StrucLength {length} runs past the end of the message ({left} bytes left)")
    found: list[Folder] = []
    pos, end = at + FIXED_LENGTH, at + length
    while pos < end:
        if end - pos < 4:
            raise fail(f"{end - pos} stray bytes at byte {pos} where a NameValueLength should be")
        (size,) = _LENGTH[order].unpack_from(body, pos)
        if size < 0 or pos + 4 + size > end:
            raise fail(f"folder {len(found) + 1}: NameValueLength {size} runs past StrucLength {length}")
        try:
            found.append(_folder(body[pos + 4 : pos + 4 + size], nv_ccsid, order))
        except (folders.FolderError, UnicodeDecodeError, LookupError) as exc:
            raise fail(f"folder {len(found) + 1}: {exc}") from None
        pos += 4 + size
    header = Header(enc, ccsid, fmt.decode("ascii", "replace").rstrip(" \0"), flags, nv_ccsid, tuple(found))
    return header, length


def _folder(raw: bytes, ccsid: int, order: str) -> Folder:
    if ccsid in _UTF16:
        text = raw.decode("utf-16-be" if order == ">" else "utf-16-le")
    elif ccsid in (CCSID_UTF8, 0):  # 0 (MQCCSI_Q_MGR) is what IBM's RFH2 class writes by default
        text = raw.decode("utf-8")
    else:
        raise LookupError(f"NameValueCCSID {ccsid} is not one MQ allows (1208, 1200, 13488, 17584)")
    if "\0" in text:  # some producers end the folder with nulls, not blanks
        text = text.split("\0", 1)[0]
    name, properties = folders.parse(text)
    return Folder(name, properties, text.rstrip())


def wrap(
    folder_texts: list[str],
    data: bytes,
    *,
    format: str,
    coded_char_set_id: int,
    encoding: int = ENCODING_NATIVE,
) -> bytes:
    """One MQRFH2 holding ``folder_texts`` (UTF-8), then ``data`` as ``format``/``coded_char_set_id``.

    Its integers are native (little endian): put it with MQMD Encoding
    MQENC_NATIVE and Format ``MQHRF2``.
    """
    parts = []
    for text in folder_texts:
        raw = text.encode("utf-8")
        raw += b" " * (-len(raw) % 4)
        parts.append(_LENGTH["<"].pack(len(raw)) + raw)
    variable = b"".join(parts)
    fixed = _FIXED["<"].pack(
        STRUC_ID,
        2,
        FIXED_LENGTH + len(variable),
        encoding,
        coded_char_set_id,
        format.encode("ascii").ljust(8),
        0,
        CCSID_UTF8,
    )
    return fixed + variable + data
