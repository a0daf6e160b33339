"""Run OpenSSH ``sftp -b`` batch scripts over any file client.

The same script works on SFTP and FTP connections: commands map onto the
client's primitives (:class:`ScriptClient`), and the transcript has the shape
``sftp -b`` prints (``sftp> command`` echoes, listings, error lines), so a
script tried in ``sftp`` can be pasted into a service unchanged. The echo's
prompt is the plugin's to choose (``run_script(..., prompt="ftp")``).

Supported: ``cd [path]``, ``lcd path``, ``ls [-1afhlrSt] [path]``,
``get [-pr] remote [local]``, ``put [-pr] local [remote]``, ``mkdir``,
``rmdir``, ``rm``, ``rename``, ``ln [-s]`` and ``symlink``, ``chmod``,
``chown``, ``chgrp`` (names or numeric ids), ``pwd``, ``lpwd``, ``lmkdir``,
``df [-h]``, ``bye``/``exit``/``quit``. A ``-`` before a command ignores its
failure; ``@`` does not echo it; ``#`` starts a comment. Globs (``*?[``) work
in the last part of remote paths for ``ls``, ``get``, ``rm``, ``chmod``,
``chown`` and ``chgrp``, and in local paths for ``put``. As in ``sftp -b``,
the first failing command (without ``-``) stops the script:
:class:`ScriptFailed` carries the transcript up to there.

Modules: ``session`` (running lines), ``commands`` (the command table),
``listing`` (``ls`` and its layouts), ``transfers`` (``get``/``put``),
``parsing`` (reading a line), ``context`` (working directories and shared
steps), ``records`` (transcript, errors), ``protocol`` (what a client needs).
"""

from portway.filescript.listing import WIDTH
from portway.filescript.protocol import ScriptClient
from portway.filescript.records import DiskUsage, ScriptFailed, Stream, Transcript
from portway.filescript.session import Session, run_script

__all__ = [
    "WIDTH",
    "DiskUsage",
    "ScriptClient",
    "ScriptFailed",
    "Session",
    "Stream",
    "Transcript",
    "run_script",
]
