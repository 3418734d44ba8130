"""A local push service for tests: records every POST, answers with a chosen status."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hanoi247.domain.push import PushSubscription


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    base: str
    requests: list[Recorded] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)  # path -> status; 201 otherwise


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            service.requests.append(Recorded(self.path, headers, body))
            self.send_response(service.status.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class MemorySubscriptions:
    """The ``PushSubscriptions`` port over a list (for channel tests)."""

    def __init__(self, rows: list[PushSubscription]) -> None:
        self.rows = rows

    def for_users(self, user_ids: Collection[str]) -> list[PushSubscription]:
        return [row for row in self.rows if row.user_id in user_ids]

    def remove_endpoint(self, endpoint: str) -> bool:
        before = len(self.rows)
        self.rows[:] = [row for row in self.rows if row.endpoint != endpoint]
        return len(self.rows) != before
