"""What went wrong while a service file ran, in words a user can act on, with the file's line."""

from __future__ import annotations

from portway.errors import DeployError


def as_deploy_error(exc: BaseException, path: str) -> DeployError:
    """``exc``, raised while ``path`` ran, as a DeployError with the file's line and the raising frame."""
    if isinstance(exc, DeployError):
        return exc
    own_line, deepest = _lines_of(exc, path)
    text = _describe(exc)
    if deepest is not None and deepest[0] != path:
        text += f" (raised at {deepest[0]}:{deepest[1]})"
    return DeployError(path, own_line, text)


def _describe(exc: BaseException) -> str:
    """What went wrong, in words; a BaseException that is not an Exception says what it is."""
    if isinstance(exc, SystemExit):
        return (
            f"SystemExit({exc.code!r}) at import: sys.exit() or exit() at a file's top level would end "
            "the server; raise an exception instead"
        )
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt raised by the file at import (imports never receive Ctrl-C)"
    if not isinstance(exc, Exception):
        return f"{type(exc).__name__}: {exc} (a BaseException, not an Exception, raised at import)"
    return f"{type(exc).__name__}: {exc}"


def _lines_of(exc: BaseException, path: str) -> tuple[int | None, tuple[str, int] | None]:
    """The last line of ``path`` in the traceback, and the innermost frame overall."""
    tb = exc.__traceback__
    own: int | None = None
    deepest: tuple[str, int] | None = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == path:
            own = tb.tb_lineno
        deepest = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if own is None and isinstance(exc, SyntaxError) and exc.filename == path:
        own = exc.lineno
    return own, deepest


def class_line(cls: type) -> int | None:
    """The first line of a class's first method: where to point at the class."""
    for value in vars(cls).values():
        code = getattr(value, "__code__", None)
        if code is not None:
            return int(code.co_firstlineno)
    return None
