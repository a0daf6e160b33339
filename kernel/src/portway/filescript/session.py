"""A script session: runs lines through the command table and keeps the transcript."""

from __future__ import annotations

from pathlib import Path

from portway.filescript.commands import COMMANDS
from portway.filescript.context import ScriptContext
from portway.filescript.parsing import read_line, split_flags
from portway.filescript.protocol import ScriptClient
from portway.filescript.records import CommandError, ScriptFailed, Stream, Transcript


class Session(ScriptContext):
    """An interpreter with its own remote and local working directories.

    The interactive shell keeps one session across lines; :func:`run_script`
    uses a fresh one. ``prompt`` is the word echoed before each command
    (``sftp>`` as ``sftp -b`` prints; a plugin gives its own, ``ftp`` for FTP).
    """

    def __init__(
        self, client: ScriptClient, *, local_dir: str | Path | None = None, prompt: str = "sftp"
    ) -> None:
        super().__init__(client, local_dir=local_dir)
        self.prompt = f"{prompt}> "

    def run(self, script: str) -> Transcript:
        """Run every line; stop at the first failure not prefixed by ``-``."""
        self._out = []
        for number, raw in enumerate(script.splitlines(), start=1):
            if self.finished:
                break
            failure = self.run_line(raw)
            if failure is not None:
                transcript = Transcript(tuple(self._out))
                raise ScriptFailed(failure.path, failure.reason, number, raw.strip(), transcript)
        return Transcript(tuple(self._out))

    def run_line(self, raw: str) -> CommandError | None:
        """Run one line; return the error that should stop a script, if any."""
        line = read_line(raw)
        if line is None:
            return None
        if line.echo:
            self.print(self.prompt + line.command)  # sftp echoes comments too, then skips them
        if line.comment:
            return None
        if line.error is not None:
            return self._failed(line.error, line.ignore)
        if not line.words:
            return None
        command = COMMANDS.get(line.words[0])
        if command is None:
            unknown = CommandError("Invalid command.", line.words[0], "invalid command")
            return self._failed(unknown, line.ignore)
        flags, args = split_flags(line.words[1:])
        try:
            command(self, flags, args)
        except CommandError as exc:
            return self._failed(exc, line.ignore)
        return None

    def take_lines(self) -> list[tuple[Stream, str]]:
        """Lines printed since the last call (for the interactive shell)."""
        lines, self._out = self._out, []
        return lines

    def _failed(self, exc: CommandError, ignore: bool) -> CommandError | None:
        self.print(exc.message, "err")
        return None if ignore else exc


def run_script(
    client: ScriptClient, script: str, *, local_dir: str | Path | None = None, prompt: str = "sftp"
) -> Transcript:
    """Run a whole script; raise :class:`ScriptFailed` at the first failure not marked ``-``."""
    return Session(client, local_dir=local_dir, prompt=prompt).run(script)
