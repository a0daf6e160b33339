"""Reading and compiling a service file: its bytes (bounded in size), then its code object."""

from __future__ import annotations

import errno
import os
import types

from portway.errors import DeployError

_FIRST_READ = 32768


def read_source(path: str, stat: list[os.stat_result] | None = None, limit: int = 0) -> bytes:
    """The file's bytes, or a :class:`DeployError` saying why not and what to do.

    Raises ``FileNotFoundError`` when the file is gone (the caller undeploys it).
    With ``stat``, the stat of the file as read is appended to it. With ``limit``, a file
    longer than ``limit`` bytes is refused once that much is read (it is never read whole).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if stat is not None:
                stat.append(os.fstat(fd))
            # One read for a service-sized file; os-level calls are a third of open()'s cost.
            data = os.read(fd, _FIRST_READ)
            if len(data) < _FIRST_READ:
                if limit and len(data) > limit:
                    raise too_big(path, os.fstat(fd).st_size, limit)
                return data
            chunks = [data]
            total = len(data)
            while more := os.read(fd, 1 << 20):
                chunks.append(more)
                total += len(more)
                if limit and total > limit:
                    raise too_big(path, max(os.fstat(fd).st_size, total), limit)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise
    except PermissionError:
        raise DeployError(path, None, "cannot read the file (permission denied); make it readable") from None
    except IsADirectoryError:
        raise DeployError(path, None, "is a directory, not a service file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DeployError(path, None, "symlink loop; point the link at a real file") from None
        raise DeployError(path, None, f"cannot read the file: {exc.strerror}") from None


def too_big(path: str, size: int, limit: int) -> DeployError:
    """The error of a file over ``[hotdeploy] max_file_bytes``, which is then not compiled."""
    return DeployError(
        path,
        None,
        f"the file is {size:,} bytes, over [hotdeploy] max_file_bytes = {limit} ({limit / 1048576:g} MiB); "
        "it is not compiled. Keep data out of service files (read it at call time), or raise the setting",
    )


def compile_source(path: str, source: bytes) -> types.CodeType:
    """Compile to a code object, turning compile errors into a :class:`DeployError` with the line."""
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        if "codec can't decode" in str(exc.msg):
            raise DeployError(
                path, exc.lineno, f"not valid UTF-8 ({exc.msg}); save the file as UTF-8"
            ) from None
        raise DeployError(path, exc.lineno, f"SyntaxError: {exc.msg}") from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise DeployError(path, None, f"cannot compile: {exc}") from None
