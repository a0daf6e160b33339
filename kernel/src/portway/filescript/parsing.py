"""Reading a script line as ``sftp -b`` does: prefixes, words, getopt-style flags, arguments."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from portway.filescript.records import CommandError

GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Line:
    """One non-empty script line, read."""

    text: str  # as written, without surrounding space
    comment: bool  # a ``#`` line: echoed, not run
    echo: bool  # no ``@`` before the command
    ignore: bool  # a ``-`` before the command: its failure does not stop the script
    command: str  # the command as echoed (``@`` removed)
    words: list[str]  # the command's words (empty when ``error`` is set)
    error: CommandError | None  # the line cannot be split into words


def read_line(raw: str) -> Line | None:
    """``raw`` read into its parts; None for a blank line."""
    text = raw.strip()
    if not text:
        return None
    if text.startswith("#"):
        return Line(text, True, True, False, text, [], None)
    echo, ignore, rest = True, False, text
    while rest[:1] in ("-", "@"):
        if rest[0] == "-":
            ignore = True
        else:
            echo = False
        rest = rest[1:].lstrip()
    try:
        words, error = shlex.split(rest), None
    except ValueError as exc:
        words, error = [], CommandError(f"Invalid command line: {exc}")
    return Line(text, False, echo, ignore, text.lstrip("@"), words, error)


def split_flags(words: list[str]) -> tuple[str, list[str]]:
    """Leading ``-xyz`` words are flags (as sftp's getopt reads them); ``--`` ends them."""
    flags = ""
    index = 0
    while index < len(words) and words[index].startswith("-") and len(words[index]) > 1:
        if words[index] == "--":
            index += 1
            break
        flags += words[index][1:]
        index += 1
    return flags, words[index:]


def needs(args: list[str], count: int, command: str) -> list[str]:
    """The first ``count`` arguments, or the error sftp gives when some are missing."""
    if len(args) < count:
        noun = "argument" if count == 1 else "arguments"
        raise CommandError(f"{command}: needs {count} {noun}", command, "missing argument")
    return args[:count]


def id_or_name(value: str) -> str | int:
    """A numeric user/group id as an int, a name as it is."""
    return int(value) if value.isdigit() else value
