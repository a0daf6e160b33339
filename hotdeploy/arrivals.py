"""Invoked by the demo's pickup channels (`file` on a folder, `sftp` on the demo SFTP server) once per file.

echo 'hello pickup' > demo-env/demo-data/inbox/hello.txt   # logged, then moved to inbox/.done/
"""

from portway import Service


class FileArrived(Service):
    name = "demo.file-arrived"

    def handle(self) -> None:
        meta = self.request.meta
        payload = self.request.payload
        first = payload[:80].decode("utf-8", "replace").splitlines()[:1] if isinstance(payload, bytes) else []
        self.logger.info(
            "file_arrived",
            channel=self.request.channel,
            name=meta["name"],
            size=meta["size"],
            connection=meta["connection"],
            first_line=first[0] if first else "",
        )
        self.response.payload = {"name": meta["name"], "size": meta["size"]}
