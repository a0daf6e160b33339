"""A service using outgoing connections: lists the demo SFTP and FTPS servers' files.

`make demo` creates the connections `demo-sftp` and `demo-ftps`; switch
protocol by changing the connection: both speak the same file API.
"""

from portway import Service


class ListFiles(Service):
    name = "demo.list-files"

    def handle(self) -> None:
        listing = {}
        for kind, name in (("sftp", "demo-sftp"), ("ftp", "demo-ftps")):
            conn = getattr(self.out, kind)[name].conn
            listing[name] = [{"name": f.name, "kind": f.kind.value, "size": f.size} for f in conn.list("/")]
        self.logger.info("listed", servers=len(listing))
        self.response.payload = listing
