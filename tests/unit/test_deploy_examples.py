"""The production examples in deploy/ keep the limits the server itself enforces
(entrypoints/web/server.py, api/routing.py) and stop in the time the supervisor needs."""

from __future__ import annotations

import re
from pathlib import Path

from hanoi247.entrypoints.web.api.routing import MAX_BODY_BYTES
from hanoi247.entrypoints.web.server import HEADER_TIMEOUT, KEEP_ALIVE_TIMEOUT, REQUEST_TIMEOUT
from hanoi247.entrypoints.web.workers import STOP_TIMEOUT

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def seconds(config: str, directive: str) -> float:
    found = re.search(rf"^\s*{directive}\s+(\d+)s;", config, re.MULTILINE)
    assert found, f"{directive} is missing"
    return float(found.group(1))


def test_nginx_is_at_least_as_strict_as_the_server_and_waits_for_its_answer() -> None:
    config = (DEPLOY / "nginx" / "hanoi247.conf").read_text(encoding="utf-8")

    assert seconds(config, "client_header_timeout") <= HEADER_TIMEOUT
    assert seconds(config, "client_body_timeout") <= REQUEST_TIMEOUT
    assert seconds(config, "keepalive_timeout") <= KEEP_ALIVE_TIMEOUT
    assert seconds(config, "proxy_read_timeout") > REQUEST_TIMEOUT
    desk = config.split("location / {", 1)[1].split("}", 1)[0]
    assert f"client_max_body_size {MAX_BODY_BYTES // 1024}k;" in desk
    events = config.split("location = /api/v1/events {", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in events
    assert "X-Forwarded-For $remote_addr;" in config  # replaced, never appended


def test_caddy_uses_the_server_header_and_idle_deadlines() -> None:
    config = (DEPLOY / "caddy" / "Caddyfile").read_text(encoding="utf-8")

    assert f"read_header {HEADER_TIMEOUT:g}s" in config
    assert f"idle {KEEP_ALIVE_TIMEOUT:g}s" in config


def test_the_systemd_unit_runs_workers_and_lets_them_stop_gracefully() -> None:
    unit = (DEPLOY / "systemd" / "hanoi247.service").read_text(encoding="utf-8")

    assert re.search(r"hanoi247 serve .*--workers \d+", unit)
    stop = re.search(r"^TimeoutStopSec=(\d+)$", unit, re.MULTILINE)
    assert stop is not None
    assert float(stop.group(1)) > STOP_TIMEOUT
    assert "LoadCredentialEncrypted=hanoi247-secret-key:" in unit  # the node will not start without
    assert "KillMode=mixed" in unit  # SIGTERM to the supervisor, which stops its workers
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert hardening in unit
    service = unit.split("[Service]", 1)[1].split("[Install]", 1)[0]
    assert "StartLimit" not in service  # those belong to [Unit]; systemd ignores them here
