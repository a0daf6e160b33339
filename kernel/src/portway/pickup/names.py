"""File names a pickup channel takes, and the names it gives (move targets, done files)."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from datetime import datetime

# Names writers give files that are not finished yet; never taken, whatever include says.
TEMP_PATTERNS = ("*.part", "*~", "*.tmp", "*.portway-part", "*.portway-taking")
# The rename read lock's in-progress name: a temp pattern, so no poll takes it twice.
TAKING_SUFFIX = ".portway-taking"
DATE_EXAMPLE = "{date:%Y%m%d}"
_FIELD = re.compile(r"\{(name|stem|suffix|date)(?::([^{}]*))?\}")
# Every temp pattern is "*" and a suffix: a poll checks each name of its folder with one endswith.
_TEMP_SUFFIXES = tuple(p[1:] for p in TEMP_PATTERNS)
assert all(p.startswith("*") and not any(c in p[1:] for c in "*?[") for p in TEMP_PATTERNS)


def render(pattern: str, name: str, when: datetime | None = None) -> str:
    """``pattern`` with ``{name}``, ``{stem}``, ``{suffix}`` and ``{date:FORMAT}`` filled in for ``name``."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # ".bashrc" or "README": no suffix
        stem, suffix = name, ""
    values = {"name": name, "stem": stem, "suffix": (dot + suffix) if stem != name else ""}
    moment = when or datetime.now()

    def fill(match: re.Match[str]) -> str:
        field, spec = match.group(1), match.group(2)
        if field == "date":
            return moment.strftime(spec or "%Y%m%d")
        if spec:
            raise ValueError(f"{{{field}}} takes no format")
        return values[field]

    rest = _FIELD.sub("", pattern)
    if "{" in rest or "}" in rest:
        raise ValueError("unknown field or stray brace")
    return _FIELD.sub(fill, pattern)


def is_temporary(name: str) -> bool:
    """A dot-file (``.done/``, ``.error/``, editors' and portway's temp files) or a temp pattern."""
    return name.startswith(".") or name.endswith(_TEMP_SUFFIXES)


def is_candidate(relpath: str, include: list[str], exclude: list[str]) -> bool:
    """Whether ``relpath`` passes the temp rules, one ``include`` glob and no ``exclude`` glob.

    A glob with a ``/`` is matched against the path below the folder, one
    without against the file's name.
    """
    return Globs(tuple(include), tuple(exclude)).takes(relpath)


class Globs:
    """Include and exclude globs, compiled once: a channel's settings keep theirs, as each poll
    checks every name of its folder against them."""

    def __init__(self, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
        self.everything = "*" in include  # the default: no regex to run
        self.include = self._compiled(include)
        self.exclude = self._compiled(exclude)

    @staticmethod
    def _compiled(globs: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        """(names regex, paths regex): globs without a ``/`` match the name, with one the path."""
        names = [fnmatch.translate(g) for g in globs if "/" not in g]
        paths = [fnmatch.translate(g) for g in globs if "/" in g]
        return (
            re.compile("|".join(names)) if names else None,
            re.compile("|".join(paths)) if paths else None,
        )

    @staticmethod
    def _match(
        compiled: tuple[re.Pattern[str] | None, re.Pattern[str] | None], relpath: str, name: str
    ) -> bool:
        names, paths = compiled
        if names is not None and names.match(name):
            return True
        return paths is not None and paths.match(relpath) is not None

    def takes(self, relpath: str) -> bool:
        """Whether ``relpath`` passes the temp rules, one include glob and no exclude glob."""
        if "/" in relpath:
            if any(is_temporary(part) for part in relpath.split("/")):
                return False
            name = posixpath.basename(relpath)
        elif is_temporary(relpath):
            return False
        else:
            name = relpath
        included = self.everything or self._match(self.include, relpath, name)
        return included and not self._match(self.exclude, relpath, name)


def sample_name(include: list[str]) -> str:
    """A file name the first include glob takes, to check where its targets would land."""
    glob = include[0] if include else "*"
    sample = posixpath.basename(glob).replace("*", "sample").replace("?", "x")
    return re.sub(r"\[[^\]]*\]", "x", sample) or "sample"


def printable(name: str) -> str:
    """``name`` safe for logs, JSON and the store: undecodable bytes and control characters escaped."""
    if name.isascii() and name.isprintable():  # nearly every name: nothing to escape
        return name
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
