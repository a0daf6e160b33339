"""Byte layouts of the MQI structures the stand-in for ``ibmmq.ibmmqc`` reads and writes.

Written from IBM's MQI reference (``cmqc.h``/``cmqxc.h`` field order, types and
lengths for 64-bit Linux: MQLONG 4 bytes, pointers and MQHMSG 8, little
endian), not from IBM's Python classes, so that a mistake in one shows up
against the other. Every pad is explicit; each layout checks its length
against the MQI's ``*_LENGTH_n`` constant and a few field offsets against the
reference at import.
"""

from __future__ import annotations

import struct
from typing import Any

PTR = "Q"  # PMQVOID and friends
HMSG = "q"  # MQHMSG is a 64-bit integer


class Layout:
    """One structure: named fields in order, packed with ``struct`` without alignment."""

    def __init__(self, name: str, length: int, fields: list[tuple[str, str]], offsets: dict[str, int]):
        self.name = name
        self.struct = struct.Struct("<" + "".join(code for _, code in fields))
        self.names = [field for field, code in fields if not code.endswith("x")]
        self.offsets: dict[str, int] = {}
        at = 0
        for field, code in fields:
            self.offsets[field] = at
            at += struct.calcsize("<" + code)
        if self.struct.size != length:
            raise AssertionError(f"{name} is {self.struct.size} bytes, the MQI says {length}")
        for field, expected in offsets.items():
            if self.offsets[field] != expected:
                raise AssertionError(f"{name}.{field} at {self.offsets[field]}, the MQI says {expected}")

    @property
    def size(self) -> int:
        return self.struct.size

    def unpack(self, data: bytes) -> dict[str, Any]:
        if len(data) != self.size:
            raise ValueError(f"{self.name}: {len(data)} bytes, expected {self.size}")
        return dict(zip(self.names, self.struct.unpack(data), strict=True))

    def pack(self, values: dict[str, Any]) -> bytes:
        return self.struct.pack(*(values[name] for name in self.names))


def _charv(prefix: str) -> list[tuple[str, str]]:
    """An MQCHARV: pointer, offset, buffer size, length, CCSID (24 bytes)."""
    return [(f"{prefix}VSPtr", PTR)] + [
        (f"{prefix}VS{f}", "i") for f in ("Offset", "BufSize", "Length", "CCSID")
    ]


MQMD = Layout(
    "MQMD",
    364,  # MQMD_LENGTH_2
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("Report", "i"),
        ("MsgType", "i"),
        ("Expiry", "i"),
        ("Feedback", "i"),
        ("Encoding", "i"),
        ("CodedCharSetId", "i"),
        ("Format", "8s"),
        ("Priority", "i"),
        ("Persistence", "i"),
        ("MsgId", "24s"),
        ("CorrelId", "24s"),
        ("BackoutCount", "i"),
        ("ReplyToQ", "48s"),
        ("ReplyToQMgr", "48s"),
        ("UserIdentifier", "12s"),
        ("AccountingToken", "32s"),
        ("ApplIdentityData", "32s"),
        ("PutApplType", "i"),
        ("PutApplName", "28s"),
        ("PutDate", "8s"),
        ("PutTime", "8s"),
        ("ApplOriginData", "4s"),
        ("GroupId", "24s"),
        ("MsgSeqNumber", "i"),
        ("Offset", "i"),
        ("MsgFlags", "i"),
        ("OriginalLength", "i"),
    ],
    {
        "Format": 32,
        "MsgId": 48,
        "CorrelId": 72,
        "BackoutCount": 96,
        "ReplyToQ": 100,
        "PutDate": 304,
        "GroupId": 324,
    },
)

MQGMO = Layout(
    "MQGMO",
    112,  # MQGMO_LENGTH_4
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("Options", "i"),
        ("WaitInterval", "i"),
        ("Signal1", "i"),
        ("Signal2", "i"),
        ("ResolvedQName", "48s"),
        ("MatchOptions", "i"),
        ("GroupStatus", "c"),
        ("SegmentStatus", "c"),
        ("Segmentation", "c"),
        ("Reserved1", "c"),
        ("MsgToken", "16s"),
        ("ReturnedLength", "i"),
        ("Reserved2", "i"),
        ("MsgHandle", HMSG),
    ],
    {"MatchOptions": 72, "MsgToken": 80, "ReturnedLength": 96, "MsgHandle": 104},
)

MQPMO = Layout(
    "MQPMO",
    184,  # MQPMO_LENGTH_3 on 64-bit
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("Options", "i"),
        ("Timeout", "i"),
        ("Context", "i"),
        ("KnownDestCount", "i"),
        ("UnknownDestCount", "i"),
        ("InvalidDestCount", "i"),
        ("ResolvedQName", "48s"),
        ("ResolvedQMgrName", "48s"),
        ("RecsPresent", "i"),
        ("PutMsgRecFields", "i"),
        ("PutMsgRecOffset", "i"),
        ("ResponseRecOffset", "i"),
        ("PutMsgRecPtr", PTR),
        ("ResponseRecPtr", PTR),
        ("OriginalMsgHandle", HMSG),
        ("NewMsgHandle", HMSG),
        ("Action", "i"),
        ("PubLevel", "i"),
    ],
    {"ResolvedQName": 32, "PutMsgRecPtr": 144, "OriginalMsgHandle": 160, "PubLevel": 180},
)

MQOD = Layout(
    "MQOD",
    424,  # MQOD_LENGTH_4 on 64-bit
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("ObjectType", "i"),
        ("ObjectName", "48s"),
        ("ObjectQMgrName", "48s"),
        ("DynamicQName", "48s"),
        ("AlternateUserId", "12s"),
        ("RecsPresent", "i"),
        ("KnownDestCount", "i"),
        ("UnknownDestCount", "i"),
        ("InvalidDestCount", "i"),
        ("ObjectRecOffset", "i"),
        ("ResponseRecOffset", "i"),
        ("ObjectRecPtr", PTR),
        ("ResponseRecPtr", PTR),
        ("AlternateSecurityId", "40s"),
        ("ResolvedQName", "48s"),
        ("ResolvedQMgrName", "48s"),
        *_charv("ObjectString"),
        *_charv("SelectionString"),
        *_charv("ResObjectString"),
        ("ResolvedType", "i"),
        ("pad", "4x"),
    ],
    {
        "ObjectName": 12,
        "ObjectRecPtr": 192,
        "ResolvedQName": 248,
        "ObjectStringVSPtr": 344,
        "ResolvedType": 416,
    },
)

MQCNO = Layout(
    "MQCNO",
    272,  # MQCNO_LENGTH_8
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("Options", "i"),
        ("ClientConnOffset", "i"),
        ("ClientConnPtr", PTR),
        ("ConnTag", "128s"),
        ("SSLConfigPtr", PTR),
        ("SSLConfigOffset", "i"),
        ("ConnectionId", "24s"),
        ("SecurityParmsOffset", "i"),
        ("SecurityParmsPtr", PTR),
        ("CCDTUrlPtr", PTR),
        ("CCDTUrlOffset", "i"),
        ("CCDTUrlLength", "i"),
        ("Reserved", "8s"),
        ("ApplName", "28s"),
        ("Reserved2", "4s"),
        ("BalanceParmsPtr", PTR),
        ("BalanceParmsOffset", "i"),
        ("Reserved3", "4s"),
    ],
    {"ConnTag": 24, "SSLConfigPtr": 152, "SecurityParmsPtr": 192, "CCDTUrlPtr": 200, "ApplName": 224},
)

MQCSP = Layout(
    "MQCSP",
    104,  # MQCSP_LENGTH_3
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("AuthenticationType", "i"),
        ("Reserved1", "4s"),
        ("CSPUserIdPtr", PTR),
        ("CSPUserIdOffset", "i"),
        ("CSPUserIdLength", "i"),
        ("Reserved2", "8s"),
        ("CSPPasswordPtr", PTR),
        ("CSPPasswordOffset", "i"),
        ("CSPPasswordLength", "i"),
        ("Reserved3", "8s"),
        ("InitialKeyPtr", PTR),
        ("InitialKeyOffset", "i"),
        ("InitialKeyLength", "i"),
        ("Reserved4", "8s"),
        ("TokenPtr", PTR),
        ("TokenOffset", "i"),
        ("TokenLength", "i"),
    ],
    {"CSPUserIdPtr": 16, "CSPPasswordPtr": 40, "TokenPtr": 88},
)

MQSCO = Layout(
    "MQSCO",
    672,  # MQSCO_LENGTH_7
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("KeyRepository", "256s"),
        ("CryptoHardware", "256s"),
        ("AuthInfoRecCount", "i"),
        ("AuthInfoRecOffset", "i"),
        ("AuthInfoRecPtr", PTR),
        ("KeyResetCount", "i"),
        ("FipsRequired", "i"),
        ("EncryptionPolicySuiteB", "16s"),
        ("CertificateValPolicy", "i"),
        ("CertificateLabel", "64s"),
        ("pad", "4x"),
        ("KeyRepoPasswordPtr", PTR),
        ("KeyRepoPasswordOffset", "i"),
        ("KeyRepoPasswordLength", "i"),
        ("HTTPSCertValidation", "i"),
        ("HTTPSCertRevocation", "i"),
        ("HTTPSKeyStorePtr", PTR),
        ("HTTPSKeyStoreOffset", "i"),
        ("HTTPSKeyStoreLength", "i"),
    ],
    {"KeyRepository": 8, "AuthInfoRecPtr": 528, "CertificateLabel": 564, "KeyRepoPasswordPtr": 632},
)

# The MQCD (version 13, 2000 bytes) is long; the stand-in reads only these fields.
MQCD = Layout(
    "MQCD",
    2000,  # MQCD_LENGTH_13
    [
        ("ChannelName", "20s"),
        ("Version", "i"),
        ("ChannelType", "i"),
        ("TransportType", "i"),
        ("to ConnectionName", "992x"),
        ("ConnectionName", "264s"),
        ("to SSLCipherSpec", "400x"),
        ("SSLCipherSpec", "32s"),
        ("to end", "280x"),
    ],
    {"Version": 20, "ConnectionName": 1024, "SSLCipherSpec": 1688},
)

MQCMHO = Layout("MQCMHO", 12, [("StrucId", "4s"), ("Version", "i"), ("Options", "i")], {})
MQDMHO = Layout("MQDMHO", 12, [("StrucId", "4s"), ("Version", "i"), ("Options", "i")], {})
MQSMPO = Layout(
    "MQSMPO",
    20,
    [("StrucId", "4s"), ("Version", "i"), ("Options", "i"), ("ValueEncoding", "i"), ("ValueCCSID", "i")],
    {},
)
MQPD = Layout(
    "MQPD",
    24,
    [
        ("StrucId", "4s"),
        ("Version", "i"),
        ("Options", "i"),
        ("Support", "i"),
        ("Context", "i"),
        ("CopyOptions", "i"),
    ],
    {},
)

STRUC_IDS = {
    MQMD: b"MD  ",
    MQGMO: b"GMO ",
    MQPMO: b"PMO ",
    MQOD: b"OD  ",
    MQCNO: b"CNO ",
    MQCSP: b"CSP ",
    MQSCO: b"SCO ",
    MQCMHO: b"CMHO",
    MQDMHO: b"DMHO",
    MQSMPO: b"SMPO",
    MQPD: b"PD  ",
}


def text(value: bytes) -> str:
    """An MQCHAR field as text: up to the first null, trailing blanks dropped."""
    return value.split(b"\0", 1)[0].decode("ascii", "replace").rstrip(" ")


def field(value: str | bytes, size: int) -> bytes:
    """Text into an MQCHAR field: blank-padded, as the queue manager writes them."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    return raw[:size].ljust(size, b" ")
