"""JMS messages read from MQRFH2 headers that IBM's own ``ibmmq.RFH2`` class built, and written back.

Java producers write big-endian (MQMD Encoding 273); these headers come in
both byte orders, chained, with folders in any order and data in CCSID 1208
and 819, and must read back as the values they were built with.
"""

from __future__ import annotations

import pytest

from portway_ibm_mq import jms
from portway_ibm_mq.message import MQMD, Message
from portway_ibm_mq.received import receive

MCD = b"<mcd><Msd>jms_text</Msd><Type>order.created</Type></mcd>"
JMS = (
    b"<jms><Dst>queue:///DEV.QUEUE.1</Dst><Rto>queue://QM2/REPLIES</Rto><Tms>1700000000123</Tms>"
    b"<Exp dt='i8'>1700000060123</Exp><Cid>order-42</Cid><Dlv>1</Dlv></jms>"
)
USR = (
    b"<usr><tenant>acme &amp; co</tenant><count dt='i4'>3</count><vip dt='boolean'>1</vip>"
    b"<score dt='r8'>4.5</score><small dt='i1'>-7</small><big dt='i8'>9000000000</big>"
    b"<blob dt='bin.hex'>00ff</blob><gone xsi:nil='true'></gone><empty></empty>"
    b"<address><city>Brno</city></address></usr>"
)


def ibm_rfh2(ibmmq, folders, *, format, ccsid=1208, encoding=546):
    """An MQRFH2 as IBM's class builds it; Encoding/CCSID/Format describe what follows."""
    header = ibmmq.RFH2()
    header["Encoding"] = encoding
    header["CodedCharSetId"] = ccsid
    header["Format"] = format
    header["NameValueCCSID"] = 1208
    for folder in folders:
        header.add_folder(folder)
    return header


def java_message(ibmmq, body: bytes, *folders: bytes, md_encoding=273, ccsid=1208, format=b"MQSTR   "):
    """A message as IBM MQ classes for JMS put it: MQMD, one MQRFH2 (packed in MQMD's byte order), data."""
    header = ibm_rfh2(ibmmq, folders or (MCD, JMS, USR), format=format, ccsid=ccsid)
    md = MQMD(
        msg_id=bytes.fromhex("414d5120514d31202020202020202020" + "0102030405060708"),
        correl_id=b"order-42".ljust(24, b"\0"),
        format="MQHRF2",
        encoding=md_encoding,
        coded_char_set_id=1208,
        persistence=0,
        priority=4,
        reply_to_q="REPLIES",
        reply_to_q_mgr="QM2",
        put_date="20231114",
        put_time="22132012",
        backout_count=1,
    )
    return Message(header.pack(md_encoding) + body, md, {})


@pytest.mark.parametrize("md_encoding", [273, 546], ids=["big-endian", "little-endian"])
def test_a_java_text_message_reads_as_the_values_it_was_built_with(ibmmq, md_encoding):
    got = receive(java_message(ibmmq, "Grüße".encode(), md_encoding=md_encoding))
    assert got.problem == ""
    assert got.body == "Grüße".encode() and got.text == "Grüße"
    assert (got.md.format, got.md.coded_char_set_id, got.md.encoding) == ("MQSTR", 1208, 546)
    assert got.properties == {
        "tenant": "acme & co",
        "count": 3,
        "vip": True,
        "score": 4.5,
        "small": -7,
        "big": 9000000000,
        "blob": b"\x00\xff",
        "gone": None,
        "empty": "",
        "address.city": "Brno",
    }
    headers = got.jms
    assert headers is not None
    assert headers.message_id == "ID:414d5120514d312020202020202020200102030405060708"
    assert headers.correlation_id == "order-42"  # jms.Cid wins over the MQMD CorrelId
    assert headers.destination == "queue:///DEV.QUEUE.1"
    assert headers.reply_to == "queue://QM2/REPLIES"
    assert headers.delivery_mode == jms.NON_PERSISTENT_MODE
    assert (headers.priority, headers.timestamp, headers.expiration) == (4, 1700000000123, 1700000060123)
    assert (headers.type, headers.body_type) == ("order.created", "jms_text")
    assert (headers.redelivered, headers.delivery_count) == (True, 2)
    assert got.is_text and got.payload("auto") == "Grüße"


def test_headers_as_text_for_self_request_headers(ibmmq):
    text = receive(java_message(ibmmq, b"x")).header_text()
    assert text["JMSMessageID"].startswith("ID:414d51")
    assert text["JMSCorrelationID"] == "order-42" and text["JMSDestination"] == "queue:///DEV.QUEUE.1"
    assert (text["JMSDeliveryMode"], text["JMSPriority"], text["JMSRedelivered"]) == ("1", "4", "true")
    assert (text["count"], text["vip"], text["blob"], text["gone"]) == ("3", "true", "00ff", "")


def test_without_jms_folder_the_mqmd_gives_the_jms_headers(ibmmq):
    got = receive(java_message(ibmmq, b"raw", b"<mcd><Msd>jms_bytes</Msd></mcd>", format=b"        "))
    headers = got.jms
    assert headers is not None and headers.body_type == "jms_bytes"
    assert headers.correlation_id == "ID:" + b"order-42".ljust(24, b"\0").hex()
    assert headers.reply_to == "queue://QM2/REPLIES"
    assert headers.timestamp == 1700000000120  # PutDate/PutTime 2023-11-14 22:13:20.12 UTC
    assert headers.destination is None and headers.expiration == 0
    assert not got.is_text and got.payload("auto") == b"raw"


def test_chained_headers_with_their_own_byte_orders_and_a_latin1_body(ibmmq):
    # Header 1 is big endian (as the MQMD says) and says the next is little endian (546).
    first = ibm_rfh2(ibmmq, [USR, MCD], format=b"MQHRF2  ", ccsid=1208, encoding=546)
    second = ibm_rfh2(ibmmq, [JMS], format=b"MQSTR   ", ccsid=819, encoding=546)
    body = first.pack(273) + second.pack(546) + "café".encode("latin-1")
    md = MQMD(format="MQHRF2", encoding=273, coded_char_set_id=1208)
    got = receive(Message(body, md, {}))
    assert got.problem == ""
    assert [[f.name for f in h.folders] for h in got.headers] == [["usr", "mcd"], ["jms"]]
    assert got.text == "café" and got.md.coded_char_set_id == 819
    assert got.jms is not None and got.jms.destination == "queue:///DEV.QUEUE.1"
    assert got.properties["count"] == 3


def test_folders_in_any_order_and_utf16_name_value_data(ibmmq):
    header = ibm_rfh2(ibmmq, [], format=b"MQSTR   ")
    header["NameValueCCSID"] = 1200
    for folder in (USR, JMS, MCD):
        text = folder.decode()
        text += " " * (len(text) % 2)  # padded in UTF-16 (IBM's class would pad with single bytes)
        header.add_folder(text.encode("utf-16-le"))
    got = receive(Message(header.pack(546) + b"hi", MQMD(format="MQHRF2", encoding=546), {}))
    assert got.problem == "" and got.jms is not None and got.jms.type == "order.created"
    assert got.properties["tenant"] == "acme & co"


@pytest.mark.parametrize("body_type", ["text", "bytes"])
def test_what_portway_writes_ibms_class_reads(ibmmq, body_type):
    from portway_ibm_mq.outgoing import SendOptions, compose

    data = "hello" if body_type == "text" else b"\x00\x01"
    properties = {"tenant": "acme", "count": 3, "vip": False, "ratio": 0.25, "big": 2**40}
    options = SendOptions(correlation_id="order-42", persistence=True, priority=6, jms_type="t")
    message = compose(data, "DEV.QUEUE.1", properties, options, as_jms=True, user="app")
    assert (message.md.format, message.md.encoding, message.md.coded_char_set_id) == ("MQHRF2", 546, 1208)
    header = ibmmq.RFH2()
    header.unpack(message.body, 546)
    assert header.get_folders() == ["mcd", "jms", "usr"]
    assert header["StrucLength"] % 4 == 0 and header["Format"].strip() == (
        b"MQSTR" if data == "hello" else b""
    )
    assert message.body[header["StrucLength"] :] == (data if isinstance(data, bytes) else data.encode())
    usr = header["usr"].decode()
    assert "<count dt='i4'>3</count>" in usr and "<vip dt='boolean'>0</vip>" in usr and "dt='i8'" in usr
    jms_folder = header["jms"].decode()
    assert "<Dst>queue:///DEV.QUEUE.1</Dst>" in jms_folder and "<Cid>order-42</Cid>" in jms_folder
    assert "<Dlv>2</Dlv>" in jms_folder and "<Pri>6</Pri>" in jms_folder
    msd = "jms_text" if body_type == "text" else "jms_bytes"
    assert header["mcd"].decode().startswith(f"<mcd><Msd>{msd}</Msd><Type>t</Type></mcd>")
    assert message.md.correl_id == b"order-42".ljust(24, b"\0")
    back = receive(Message(message.body, message.md, {}))
    assert back.properties == properties and back.jms is not None and back.jms.correlation_id == "order-42"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("1st", "x", "Java identifier"),
        ("a.b", "x", "Java identifier"),
        ("has space", "x", "Java identifier"),
        ("$price", "x", "Java identifier"),
        ("JMSPriority", 5, "starting with JMS"),
        ("NULL", "x", "selector syntax"),
        ("blob", b"\x00", "a bytes value"),
        ("nested", {"a": 1}, "a dict value"),
        ("missing", None, "a null value"),
        ("huge", 2**63, "at most 64 bits"),
    ],
)
def test_a_property_jms_cannot_carry_is_refused_naming_it(name, value, problem):
    with pytest.raises(jms.JMSPropertyError) as caught:
        jms.check_properties({"fine": 1, name: value})
    assert f"JMS property {name!r}: " in str(caught.value) and problem in str(caught.value)
