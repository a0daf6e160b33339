"""The settings every pickup channel shares (local folder, SFTP, FTP), with Camel's names in each help.

Contradicting settings are refused when the channel is created, naming the
field: a success or error target the channel would pick up again, ``delete``
with ``keep``, a ``move_to`` given with either.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from portway.pickup.names import DATE_EXAMPLE, TEMP_PATTERNS, Globs, is_candidate, render, sample_name
from portway.settings_marks import FileSetting

ReadLock = Literal["changed", "done_file", "rename", "none"]


def pattern(value: str) -> None:
    """Refuse a name pattern that does not render, or that leaves the file's folder."""
    try:
        rendered = render(value, "sample.txt")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"{value!r} is not a name pattern: use {{name}}, {{stem}}, {{suffix}}, {DATE_EXAMPLE} ({exc})"
        ) from None
    if rendered.startswith("/") or ".." in rendered.split("/"):
        raise ValueError("must stay below the file's folder: no leading '/' and no '..'")


class PickupSettings(BaseModel):
    """What a pickup channel takes, when it counts a file as complete, and what it does after."""

    model_config = {"extra": "forbid"}

    service: str = Field(min_length=1, description="Service to invoke for each file")
    folder: str = Field(min_length=1, description="Folder to watch (Camel: the endpoint's directory)")
    read_lock: ReadLock = Field(
        "changed",
        description="When a file is complete (Camel readLock): changed = size and mtime stable over "
        "read_lock_checks looks; done_file = its done file exists; rename = renamed to NAME.portway-taking "
        "first; none = at once",
    )
    read_lock_checks: int = Field(
        2, ge=2, le=100, description="changed: looks with the same size and mtime before a file is taken"
    )
    read_lock_check_interval_s: float = Field(
        1.0,
        gt=0,
        le=3600,
        description="Least time between two looks that count (Camel readLockCheckInterval)",
    )
    done_file_name: str = Field(
        "{name}.done",
        min_length=1,
        description="done_file: the marker's name; {name} is the file's (Camel doneFileName)",
    )
    include: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Globs a file's name (or, with '/', relative path) must match",
    )
    exclude: list[str] = Field(default_factory=list, description="Globs of files never taken (Camel exclude)")
    recursive: bool = Field(False, description="Also take files from subfolders (Camel recursive)")
    keep: bool = Field(False, description="Leave a done file where it is (Camel noop=true)")
    delete: bool = Field(False, description="Delete a file once its service succeeded (Camel delete=true)")
    move_to: str = Field(
        ".done/{name}",
        min_length=1,
        description="Where a done file goes, relative to its folder; {name}, {stem}, {suffix}, "
        "{date:%Y%m%d} (Camel move)",
    )
    move_failed_to: str | None = Field(
        ".error/{name}",
        description="Where a file goes after its last failed attempt; empty: left in place, never retried "
        "(Camel moveFailed)",
    )
    max_attempts: int = Field(
        1, ge=1, le=1000, description="Runs of the service before a file counts as failed"
    )
    retry_backoff_s: float = Field(
        1.0, ge=0, le=86400, description="Wait before the 2nd attempt; doubles for each further one"
    )
    max_files_per_poll: int = Field(
        100, ge=1, le=100_000, description="Most files taken per poll (Camel maxMessagesPerPoll)"
    )
    sort_by: Literal["name", "mtime"] = Field("name", description="Order files are taken in (Camel sortBy)")
    min_age_s: float = Field(
        0, ge=0, le=86400 * 365, description="Take only files at least this old (Camel minAge)"
    )
    poll_interval_s: float = Field(5.0, gt=0, le=86400, description="Time between polls (Camel delay)")
    max_concurrent: int = Field(1, ge=1, le=256, description="Files handled at once")
    idempotent_key: Literal["path_size_mtime", "content_hash"] = Field(
        "path_size_mtime", description="What makes a file 'the same file' (Camel idempotentKey)"
    )
    stream_above_bytes: int = Field(
        16 * 1024 * 1024,
        ge=0,
        description="Files larger than this reach the service as a local path to stream from, not bytes",
    )

    @field_validator("include", "exclude")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        if any(not glob.strip() for glob in value):
            raise ValueError("an empty glob matches nothing; remove it")
        return value

    # Field validators, not one model validator, so that a refusal names its field. Each sees
    # the fields declared before it in info.data (read_lock, include, ..., keep, delete).
    @field_validator("delete")
    @classmethod
    def _delete(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("keep"):
            raise ValueError("cannot delete and keep (keep=true) a file; choose one")
        return value

    @field_validator("done_file_name")
    @classmethod
    def _done_file_name(cls, value: str, info: ValidationInfo) -> str:
        pattern(value)
        if info.data.get("read_lock") == "done_file" and (value == "{name}" or "{name}" not in value):
            raise ValueError("must contain {name} and differ from it, e.g. {name}.done")
        return value

    @field_validator("move_to", "move_failed_to")
    @classmethod
    def _target(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        pattern(value)
        data = info.data
        if info.field_name == "move_to" and (data.get("delete") or data.get("keep")):
            raise ValueError("a file is moved, deleted or kept: drop move_to, or delete/keep")
        include, exclude = data.get("include", ["*"]), data.get("exclude", [])
        target = render(value, sample_name(include))
        if ("/" not in target or data.get("recursive")) and is_candidate(target, include, exclude):
            raise ValueError(
                f"{value!r} lands in the watched folder and would be taken again; "
                "use a dot-folder (.done/), a subfolder without recursive, or exclude it"
            )
        return value

    def takes(self, relpath: str) -> bool:
        """Whether a file at ``relpath`` (below the folder, '/'-separated) is one this channel takes."""
        if "/" in relpath and not self.recursive:
            return False
        return self._compiled_globs.takes(relpath)

    @functools.cached_property
    def _compiled_globs(self) -> Globs:
        return Globs(tuple(self.include), tuple(self.exclude))


class FileChannelSettings(PickupSettings):
    """A ``file`` channel: each complete new file in ``folder`` invokes ``service``."""

    # A FileSetting: the channel reads, moves and deletes files there, so the folder must lie in
    # [security] file_roots and never be one of the environment's own (keys, logs, cache).
    folder: Annotated[str, FileSetting(folder=True)] = Field(
        min_length=1, description="Folder on this machine to watch (absolute path, in [security] file_roots)"
    )
    inotify: bool = Field(True, description="Wake at once on file system events where the OS has them")

    @field_validator("folder")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not os.path.isabs(value):
            raise ValueError("give an absolute path: a server's working folder is not the user's")
        return os.path.normpath(value)


__all__ = ["TEMP_PATTERNS", "FileChannelSettings", "PickupSettings", "ReadLock"]
