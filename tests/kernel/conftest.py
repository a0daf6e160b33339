"""A real TCP echo server for the example plugin's `echo` connection type."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

TOKEN = "s3cret-token"


@dataclass
class EchoServer:
    host: str
    port: int
    logins: int = 0
    live: list[socketserver.BaseRequestHandler] = field(default_factory=list)

    def drop_all(self) -> None:
        """Close every open client connection from the server side."""
        for handler in list(self.live):
            # shutdown, not close: the handler's file objects keep the fd open
            handler.request.shutdown(socket.SHUT_RDWR)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        state = self.server.state
        state.live.append(self)
        try:
            for raw in self.rfile:
                line = raw.decode().rstrip("\n")
                if line.startswith("LOGIN "):
                    ok = line[6:] == TOKEN
                    state.logins += ok
                    self.wfile.write(b"OK\n" if ok else b"NO bad token\n")
                elif line == "PING":
                    self.wfile.write(b"PONG\n")
                elif line.startswith("ECHO "):
                    self.wfile.write(line[5:].encode() + b"\n")
                else:
                    self.wfile.write(b"ERR unknown command\n")
        except OSError:
            pass  # the test dropped this connection on purpose
        finally:
            state.live.remove(self)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: EchoServer


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = EchoServer("127.0.0.1", server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.state
    server.shutdown()
    server.server_close()


@pytest.fixture
def echo_settings(echo_server: EchoServer) -> dict[str, object]:
    return {"host": echo_server.host, "port": echo_server.port, "token": TOKEN}
