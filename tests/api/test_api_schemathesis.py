"""Schemathesis against ``/api/v1/openapi.json``: the API does what its schema says.

A real node (VN, with FR pinned; ``api_support``) holding requests in several statuses
is served by uvicorn on 127.0.0.1; the ``st`` command line (pinned in pyproject's dev
extras) fuzzes every operation as officer "an" (an API token, issued once TOTP-verified
accounts exist: ``api_support.add_users``). Bounded and reproducible: a few examples per
operation, deterministic generation (a fixed derandomized sequence, no example
database: the same cases every run), one worker.

Checks: no server error; every status, media type and body as documented (problem+json
for every error); schema-violating data refused and schema-valid data not refused with
a 4xx the schema does not allow (``negative_data_rejection``,
``positive_data_acceptance``); a method the path does not have is 405 with an ``Allow``
header listing exactly the documented methods.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from api_support import ApiNode, api_nodes, deliver

from evidence_transfer_support import with_evidence_key
from workflow_harness import PRESERVATION

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "unsupported_method",
        "allow_header_conformance",
    )
)
CONFIG = Path(__file__).with_name("schemathesis.toml")  # what a JSON Schema cannot say
MAX_EXAMPLES = 5
DEADLINE = 30.0


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (a free port) in a thread, without its lifespan (no workers)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until = time.monotonic() + DEADLINE
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < until, "uvicorn did not start in time"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(DEADLINE)


def seed_requests(vn: ApiNode, fr: ApiNode) -> None:
    """A draft, a sent request (so an incoming one at FR) and a withdrawn draft at VN."""
    draft = vn.post("/api/v1/requests", "an", json=PRESERVATION)
    assert draft.status_code == 201, draft.text
    sent = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
    assert vn.post(f"/api/v1/requests/{sent}/send", "an").status_code == 200
    gone = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
    assert vn.post(f"/api/v1/requests/{gone}/withdraw", "an").status_code == 200
    deliver(vn, fr)


@pytest.mark.timeout(900)  # ~45 s of CPU; minutes of wall time on a loaded machine
def test_schemathesis_finds_no_failure_in_any_operation_of_the_api(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, fr, _clock):
        with_evidence_key(vn.node)
        seed_requests(vn, fr)
        with serving(vn.node.app) as url:
            run = subprocess.run(
                [
                    sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
                    "run",
                    f"{url}/api/v1/openapi.json",
                    "--header", f"Authorization: Bearer {vn.tokens['an']}",
                    "--checks", CHECKS,
                    "--max-examples", str(MAX_EXAMPLES),
                    "--generation-deterministic",
                    "--workers", "1",
                    "--no-color",
                ],
                cwd=tmp_path,  # st keeps a cache (.schemathesis/) in its directory
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )  # fmt: skip
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    assert run.returncode == 0, run.stdout[-30_000:] + run.stderr[-2_000:]
    assert "Tested: " in summary, summary
