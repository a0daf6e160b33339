"""Names and text settings hold no control or bidi characters, and are bounded in length."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portway.environment import Environment
from portway.errors import ConfigError, SettingError
from portway.runtime import Runtime
from portway.setting_limits import MAX_SETTINGS_BYTES, MAX_TEXT

SETTINGS = {"host": "127.0.0.1", "port": 7000, "token": "tok"}
BAD = [
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\tb",
    "a\x1bb",
    "a\x7fb",
    "a\x85b",
    "a\u202eb",
    "a\u2066b",
    "a\u200fb",
    "a\u200eb",
]


@pytest.fixture
def runtime(portway_env: Environment) -> Iterator[Runtime]:
    rt = Runtime(portway_env)
    yield rt
    rt.close()


@pytest.mark.parametrize("name", [*BAD, ".", "..", "a/b", " a", "x" * 201, ""])
def test_bad_names_are_refused_and_nothing_is_written(runtime: Runtime, name: str) -> None:
    with pytest.raises(ConfigError, match="connection name") as caught:
        runtime.catalog.create("connection", "echo", name, SETTINGS)
    assert "\x00" not in str(caught.value) and "\u202e" not in str(caught.value)
    assert runtime.catalog.list("connection") == []


@pytest.mark.parametrize("name", ["Zürich bank", "a.b", "...", "x" * 200, "bank (test)"])
def test_good_names_are_kept(runtime: Runtime, name: str) -> None:
    assert runtime.catalog.create("connection", "echo", name, SETTINGS).name == name


@pytest.mark.parametrize("host", BAD)
def test_text_settings_refuse_control_and_bidi_characters(runtime: Runtime, host: str) -> None:
    with pytest.raises(SettingError, match=r"setting 'host': holds a .*U\+") as caught:
        runtime.catalog.create("connection", "echo", "e", {**SETTINGS, "host": host})
    assert host not in str(caught.value)


def test_channel_settings_are_checked_alike(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match="'service'.*control character"):
        runtime.catalog.create("channel", "http", "h", {"path": "/h", "service": "a\nb"})


def test_a_secret_may_hold_lines_but_no_other_controls(runtime: Runtime) -> None:
    runtime.catalog.create("connection", "echo", "pem", {**SETTINGS, "token": "line one\nline two\n"})
    with pytest.raises(SettingError, match="'token'.*U\\+0000") as caught:
        runtime.catalog.create("connection", "echo", "nul", {**SETTINGS, "token": "se\x00cret"})
    assert "se\x00cret" not in str(caught.value) and "cret" not in str(caught.value)


def test_texts_are_bounded_unless_the_model_says_more(runtime: Runtime) -> None:
    with pytest.raises(SettingError, match=f"'host': {MAX_TEXT + 1} characters long; at most {MAX_TEXT}"):
        runtime.catalog.create("connection", "echo", "long", {**SETTINGS, "host": "h" * (MAX_TEXT + 1)})
    from portway.setting_limits import check_settings
    from portway_sftp.settings import SftpSettings

    check_settings(SftpSettings, {"private_key": "k" * 10_000}, "sftp", frozenset({"private_key"}))


def test_the_whole_settings_are_bounded(runtime: Runtime) -> None:
    huge = {"path": "/" + "p" * MAX_SETTINGS_BYTES, "service": "s"}
    with pytest.raises(ConfigError, match=f"at most {MAX_SETTINGS_BYTES} may"):
        runtime.catalog.prepare("channel", "http", "big", huge, {})
    with pytest.raises(SettingError, match="pool.*'size'.*at most"):
        runtime.catalog.create("connection", "echo", "p", SETTINGS, {"size": "9" * (MAX_TEXT + 1)})
