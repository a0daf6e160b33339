"""The stand-in for ``ibmmq.ibmmqc`` agrees with the MQI and with IBM's Python layer, and what it caught.

The stand-in's layouts are written from the MQI reference; IBM's classes pack
the same structures their own way. Both must agree on every length and on
where each field is, or a mistake on one side would pass unseen.
"""

from __future__ import annotations

import re
from pathlib import Path

import ibmmqc_standin
import mqi_constants
import mqi_layouts
import pytest

from portway_ibm_mq import native
from portway_ibm_mq.client import MQClient
from portway_ibm_mq.message import MQMD
from portway_ibm_mq.settings import MQConnectionSettings


def test_constants_are_the_mqi_ones(ibmmq):
    for name in (n for n in dir(mqi_constants) if n.startswith("MQ")):
        theirs = getattr(ibmmq.CMQC, name, getattr(ibmmq.CMQXC, name, None))
        assert theirs == getattr(mqi_constants, name), name


@pytest.mark.parametrize(
    ("layout", "make"),
    [
        (mqi_layouts.MQMD, "MD"),
        (mqi_layouts.MQGMO, "GMO"),
        (mqi_layouts.MQPMO, "PMO"),
        (mqi_layouts.MQOD, "OD"),
        (mqi_layouts.MQCNO, "CNO"),
        (mqi_layouts.MQCSP, "CSP"),
        (mqi_layouts.MQSCO, "SCO"),
        (mqi_layouts.MQCD, "CD"),
        (mqi_layouts.MQCMHO, "CMHO"),
        (mqi_layouts.MQDMHO, "DMHO"),
        (mqi_layouts.MQSMPO, "SMPO"),
        (mqi_layouts.MQPD, "PD"),
    ],
)
def test_ibm_classes_pack_the_lengths_the_mqi_gives(ibmmq, layout, make):
    structure = getattr(ibmmq, make)()
    if make == "CSP":  # pointer fields must be set before packing
        structure._set_ptr_field("CSPUserId", None)
        structure._set_ptr_field("CSPPassword", None)
    assert len(structure.pack()) == layout.size


def test_fields_sit_where_both_sides_put_them(ibmmq):
    md = ibmmq.MD(
        MsgId=b"M" * 24, CorrelId=b"C" * 24, Priority=7, Format=b"MQSTR", ReplyToQ=b"R.Q", PutDate=b"20260102"
    )
    read = mqi_layouts.MQMD.unpack(md.pack())
    assert (read["MsgId"], read["CorrelId"], read["Priority"]) == (b"M" * 24, b"C" * 24, 7)
    assert mqi_layouts.text(read["Format"]) == "MQSTR" and mqi_layouts.text(read["ReplyToQ"]) == "R.Q"
    assert md.pack()[48:72] == b"M" * 24  # MsgId at offset 48, as cmqc.h lays out MQMD
    gmo = mqi_layouts.MQGMO.unpack(ibmmq.GMO(WaitInterval=1234, MatchOptions=3, MsgHandle=2**40).pack())
    assert (gmo["WaitInterval"], gmo["MatchOptions"], gmo["MsgHandle"]) == (1234, 3, 2**40)
    pmo = mqi_layouts.MQPMO.unpack(ibmmq.PMO(Options=0x42, OriginalMsgHandle=99, PubLevel=4).pack())
    assert (pmo["Options"], pmo["OriginalMsgHandle"], pmo["PubLevel"]) == (0x42, 99, 4)
    od = mqi_layouts.MQOD.unpack(ibmmq.OD(ObjectName=b"Q1", ObjectType=5).pack())
    assert (mqi_layouts.text(od["ObjectName"]), od["ObjectType"], od["ResolvedType"]) == ("Q1", 5, -3)
    cd = ibmmq.CD(ChannelName=b"DEV.APP.SVRCONN", ConnectionName=b"h(1)", SSLCipherSpec=b"ANY_TLS13")
    read = mqi_layouts.MQCD.unpack(cd.pack())
    assert [mqi_layouts.text(read[f]) for f in ("ChannelName", "ConnectionName", "SSLCipherSpec")] == [
        "DEV.APP.SVRCONN",
        "h(1)",
        "ANY_TLS13",
    ]


def test_a_structure_of_the_wrong_size_is_refused_as_the_c_module_does(ibmmq):
    with pytest.raises(ibmmqc_standin.error, match="MQMD wrong size. Given: 324, expected 364"):
        ibmmqc_standin.MQPUT(1, 1, bytes(324), ibmmq.PMO().pack(), b"x")


def test_standin_takes_the_signatures_of_ibmmqc_c():
    """Each entry point's argument count is the C one's PyArg_ParseTuple format (ibmmqc.c 2.1.2)."""
    formats = {
        "MQCONNX": "yz#z#z#z#z#",
        "MQDISC": "l",
        "MQOPEN": "ly#l",
        "MQCLOSE": "lll",
        "MQPUT": "lly#y#y#",
        "MQPUT1": "ly#y#y#y#",
        "MQGET": "lly#y#l",
        "MQCMIT": "l",
        "MQBACK": "l",
        "MQINQ": "llOOlll",
        "MQCRTMH": "ly#",
        "MQDLTMH": "lLy#",
        "MQSETMP": "lLy#y#y#lOl",
    }
    for name, spec in formats.items():
        arity = len(re.sub(r"#", "", spec))
        assert getattr(ibmmqc_standin, name).__code__.co_argcount == arity, name


@pytest.mark.parametrize("backend", ["ibmmq"], indirect=True)
def test_a_large_message_is_got_whole_even_when_another_arrives_between_the_tries(
    qm, mq_settings, monkeypatch
):
    # IBM's layer gets with a 4 KB buffer first, then again with the real length; with the MsgId
    # it copied back, the second MQGET must take the same message, not a newer higher-priority one.
    settings = MQConnectionSettings.model_validate(mq_settings)
    big = b"x" * 10_000
    with MQClient.open(settings) as sender, MQClient.open(settings) as consumer:
        sender.send(big, "Q", priority=1)
        real_get = ibmmqc_standin.MQGET

        def get_then_a_rival_arrives(*args):
            answer = real_get(*args)
            if answer[-1] == 2080:  # MQRC_TRUNCATED_MSG_FAILED: the first, too-short try
                sender.send(b"rival", "Q", priority=9)
            return answer

        monkeypatch.setattr(ibmmqc_standin, "MQGET", get_then_a_rival_arrives)
        got = consumer.get("Q")
        assert got is not None and got.body == big
        assert [m.body for m in qm.messages("Q")] == [b"rival"]


@pytest.mark.parametrize("backend", ["ibmmq"], indirect=True)
def test_message_handles_are_deleted_after_each_put(qm, mq_settings):
    with MQClient.open(MQConnectionSettings.model_validate(mq_settings)) as client:
        for i in range(3):
            client.send("x", "Q", headers={"n": str(i)})
        assert ibmmqc_standin.live_message_handles() == 0
    assert [m.properties for m in qm.messages("Q")] == [{"n": "0"}, {"n": "1"}, {"n": "2"}]


@pytest.mark.parametrize("backend", ["ibmmq"], indirect=True)
def test_mqdisc_commits_so_close_backs_out_first(qm, mq_settings):
    session = native.connect(MQConnectionSettings.model_validate(mq_settings))
    session.put("Q", b"x", MQMD(), {}, syncpoint=False)
    session.get("Q", wait_ms=0, syncpoint=True)
    session.close()
    assert qm.depth("Q") == 1 and qm.committed_gets("Q") == []


def test_the_standin_is_test_code_only():
    plugin = Path(native.__file__).parent
    assert not any("ibmmqc_standin" in p.read_text() for p in plugin.rglob("*.py"))
