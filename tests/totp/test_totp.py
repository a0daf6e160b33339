"""RFC 6238 behaviour of portway-totp: window, replay guard, URI, QR codes."""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from portway.plugins import load_plugins
from portway_totp import totp

# RFC 6238 appendix B: the SHA1 secret "12345678901234567890", 8-digit values;
# the last 6 digits are what a 6-digit authenticator shows.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924")]


@pytest.mark.parametrize(("at", "eight_digits"), RFC_VECTORS)
def test_codes_match_the_rfc_test_vectors(at: int, eight_digits: str) -> None:
    assert totp.verify(RFC_SECRET, eight_digits[-6:], None, now=at) == at // 30


def test_one_step_of_drift_either_way_and_no_more() -> None:
    secret = totp.new_secret()
    now = 1_700_000_000.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        code = pyotp.TOTP(secret).at(now + 30 * offset)
        assert totp.verify(secret, code, None, now=now) == step + offset
    for offset in (-3, -2, 2, 3):
        code = pyotp.TOTP(secret).at(now + 30 * offset)
        if code not in {pyotp.TOTP(secret).at(now + 30 * o) for o in (-1, 0, 1)}:
            assert totp.verify(secret, code, None, now=now) is None


def test_a_step_at_or_before_the_last_used_one_is_refused() -> None:
    secret = totp.new_secret()
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    step = totp.verify(secret, code, None, now=now)
    assert step is not None
    assert totp.verify(secret, code, step, now=now) is None
    assert totp.verify(secret, pyotp.TOTP(secret).at(now - 30), step, now=now) is None
    assert totp.verify(secret, pyotp.TOTP(secret).at(now + 30), step, now=now) == step + 1


FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x", FULLWIDTH_DIGITS])
def test_malformed_codes_are_refused(bad: str) -> None:
    assert totp.verify(totp.new_secret(), bad, None) is None


def test_spaces_in_a_code_are_ignored() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).now()
    assert totp.verify(secret, f"{code[:3]} {code[3:]}", None) is not None


def test_secret_is_160_bits_of_base32() -> None:
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(base64.b32decode(secret)) == 20


def test_provisioning_uri_is_what_authenticator_apps_expect() -> None:
    secret = totp.new_secret()
    uri = urlparse(totp.provisioning_uri(secret, "alice", "portway"))
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert unquote(uri.path) == "/portway:alice"
    query = {k: v[0] for k, v in parse_qs(uri.query).items()}
    assert query == {
        "secret": secret,
        "issuer": "portway",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }
    # pyotp's own parser (what many tools use) reads it back to the same generator.
    parsed = pyotp.parse_uri(totp.provisioning_uri(secret, "alice", "portway"))
    assert parsed.now() == pyotp.TOTP(secret).now()
    assert parsed.name == "alice" and parsed.issuer == "portway"


def test_account_names_with_odd_characters_are_escaped() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "ops team@example.com", "portway")
    assert " " not in uri
    assert unquote(urlparse(uri).path) == "/portway:ops team@example.com"


def test_qr_svg_is_an_svg_document() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "alice", "portway"))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in svg


def test_qr_text_draws_blocks_for_a_terminal() -> None:
    text = totp.qr_text(totp.provisioning_uri(totp.new_secret(), "alice", "portway"))
    lines = text.splitlines()
    assert len(lines) > 10
    assert set("".join(lines)) <= {" ", "█", "▀", "▄"}


def test_plugin_declares_the_totp_factor() -> None:
    plugins = load_plugins()
    assert plugins.statuses["totp"].status == "loaded"
    factor = plugins.auth_factors["totp"]
    secret = factor.new_secret()
    assert factor.verify(secret, pyotp.TOTP(secret).now(), None) is not None
    assert factor.provisioning_uri(secret, "bob", "portway").startswith("otpauth://totp/portway:bob?")
