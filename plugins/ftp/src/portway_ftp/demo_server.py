"""An embedded FTP + FTPS server (pyftpdlib) for demos, tests and benchmarks.

Run it with::

    python -m portway_ftp.demo_server --root DIR --port 2121 --tls-port 2990 \\
        --implicit-port 2991 --user demo --password demo

It serves DIR to one user, in plain FTP on ``--port``, explicit FTPS
(``AUTH TLS``) on ``--tls-port`` and implicit FTPS on ``--implicit-port``.
On start it writes a fresh CA and server certificate (for ``localhost`` and
``127.0.0.1``) to ``--cert-dir``; give ``ca.pem`` from there as the
connection's ``ca_file`` so the certificate is verified, not ignored.

This is a development server: one user, no limits. Do not expose it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portway_ftp.certificates import CertificateFiles, make_certificates


@dataclass(frozen=True)
class HandlerOptions:
    """How to build a pyftpdlib handler class for one listening port."""

    root: Path
    user: str
    password: str
    tls: str = "none"  # none | explicit | implicit
    certificates: CertificateFiles | None = None
    mlsd: bool = True
    tls_required: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def handler_class(options: HandlerOptions) -> type:
    """A fresh handler class (pyftpdlib keeps settings on the class) for ``options``."""
    from pyftpdlib.authorizers import DummyAuthorizer  # type: ignore[import-untyped]
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler  # type: ignore[import-untyped]

    authorizer = DummyAuthorizer()
    authorizer.add_user(options.user, options.password, str(options.root), perm="elradfmwMT")
    base: type = FTPHandler
    attributes: dict[str, Any] = {"authorizer": authorizer, "banner": "portway demo FTP server ready."}
    if options.tls != "none":
        if options.certificates is None:
            raise ValueError("a TLS handler needs certificates")
        base = _implicit_tls_handler() if options.tls == "implicit" else TLS_FTPHandler
        attributes.update(
            certfile=str(options.certificates.cert_file),
            keyfile=str(options.certificates.key_file),
            ssl_context=None,  # built per class from the files above
            tls_control_required=options.tls_required,
            tls_data_required=options.tls_required,
        )
    if not options.mlsd:
        # An old server: LIST only. FEAT stops offering MLST once both are gone.
        commands = dict(base.proto_cmds)  # type: ignore[attr-defined]
        commands.pop("MLSD", None)
        commands.pop("MLST", None)
        attributes["proto_cmds"] = commands
    attributes.update(options.extra)
    return type(f"Demo{options.tls.title()}Handler", (base,), attributes)


def _implicit_tls_handler() -> type:
    from pyftpdlib.handlers import TLS_FTPHandler

    class ImplicitTlsHandler(TLS_FTPHandler):  # type: ignore[misc]
        """TLS from the first byte, then the banner (FTPS on port 990 style)."""

        def handle(self) -> None:
            self.secure_connection(self.ssl_context)
            super().handle()

    return ImplicitTlsHandler


class DemoServer:
    """pyftpdlib servers on 127.0.0.1 sharing one event loop in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from pyftpdlib.ioloop import IOLoop  # type: ignore[import-untyped]

        self.host = host
        self.ioloop = IOLoop()
        self.ports: dict[str, int] = {}
        self._servers: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def listen(self, name: str, options: HandlerOptions, port: int = 0) -> int:
        """Serve ``options`` on ``port`` (0: a free one); return the port."""
        from pyftpdlib.servers import FTPServer  # type: ignore[import-untyped]

        server = FTPServer((self.host, port), handler_class(options), ioloop=self.ioloop)
        self._servers.append(server)
        self.ports[name] = server.address[1]
        return self.ports[name]

    def start(self) -> DemoServer:
        """Start the event loop in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="ftp-demo-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Run the event loop in this thread until :meth:`stop` (or SIGINT/SIGTERM)."""
        self._run()

    def _run(self) -> None:
        # One poll per turn so stop() is noticed; wait no longer than the next
        # scheduled call (pyftpdlib schedules transfer steps), else 0.2 s.
        wait = 0.2
        while not self._stop.is_set():
            soonest = self.ioloop.loop(timeout=wait, blocking=False)
            wait = 0.2 if soonest is None else max(0.0, min(soonest, 0.2))
        self.ioloop.close()

    def stop(self) -> None:
        """Stop serving and close every connection; returns when the loop has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    import click

    @click.command()
    @click.option("--root", required=True, type=click.Path(file_okay=False), help="Directory to serve")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
    @click.option("--port", default=2121, show_default=True, help="Plain FTP port (0: none)")
    @click.option("--tls-port", default=2990, show_default=True, help="Explicit FTPS port (0: none)")
    @click.option("--implicit-port", default=0, show_default=True, help="Implicit FTPS port (0: none)")
    @click.option("--user", default="demo", show_default=True)
    @click.option("--password", default="demo", show_default=True)
    @click.option(
        "--cert-dir",
        default=None,
        type=click.Path(file_okay=False),
        help="Where to write ca.pem and the server certificate [default: ROOT/../ftp-demo-certs]",
    )
    def run(
        root: str,
        host: str,
        port: int,
        tls_port: int,
        implicit_port: int,
        user: str,
        password: str,
        cert_dir: str | None,
    ) -> None:
        """Serve ROOT over FTP and FTPS for trying portway's ftp connections."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        served = Path(root).resolve()
        served.mkdir(parents=True, exist_ok=True)
        certs_dir = Path(cert_dir) if cert_dir else served.parent / "ftp-demo-certs"
        names = ("localhost", "127.0.0.1") if host in ("127.0.0.1", "localhost", "0.0.0.0") else (host,)
        certificates = make_certificates(certs_dir, names=names)
        server = DemoServer(host)
        for name, number, tls in (
            ("ftp", port, "none"),
            ("ftps", tls_port, "explicit"),
            ("ftps-implicit", implicit_port, "implicit"),
        ):
            if number:
                options = HandlerOptions(served, user, password, tls=tls, certificates=certificates)
                bound = server.listen(name, options, number)
                click.echo(f"{name:>13}: {host}:{bound} (tls={tls})")
        click.echo(f"{'CA file':>13}: {certificates.ca_file}")
        click.echo(f"{'user':>13}: {user} / {password}, serving {served}")
        if port:
            click.echo(
                f"\nportway conn create ENV ftp demo --host {host} --port {port} "
                f"--username {user} --password {password}"
            )
        if tls_port:
            click.echo(
                f"portway conn create ENV ftp demo-tls --host {host} --port {tls_port} --username {user} "
                f"--password {password} --tls explicit --ca-file {certificates.ca_file}"
            )
        signal.signal(signal.SIGTERM, lambda *_: server._stop.set())
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a demo ends
            server.serve_forever()

    run.main(args=argv, prog_name="python -m portway_ftp.demo_server")


if __name__ == "__main__":
    main()
