"""Real local receivers for the delivery tests: an HTTP server (webhooks, the CAP endpoint) and an
SMTP server (aiosmtpd). Loopback only; each records what it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class HttpReceiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; 200 after


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    state: dict[str, HttpReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            rec = state["r"]
            rec.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            code = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["r"] = HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    from ioc.services.proc import free_port

    rec = SmtpReceiver("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
            rec.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            rec.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=rec.host, port=rec.port)
    controller.start()
    try:
        yield rec
    finally:
        controller.stop()
