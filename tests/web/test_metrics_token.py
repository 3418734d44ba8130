"""/metrics answers only a scraper with the node's metrics token."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fakes import FakeClock
from federation_helpers import make_node
from hanoi247.domain.errors import ConfigurationError
from hanoi247.entrypoints.web.app import create_app
from hanoi247.settings import Settings
from workflow_harness import START

TOKEN = "scraper-" + "k" * 32


def client(tmp_path: Path, token: str) -> TestClient:
    node = make_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=FakeClock(START))
    node.runtime.settings = replace(node.runtime.settings, metrics_token=token)
    return TestClient(create_app(node.runtime))


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic c2NyYXBlcjp4"}, 401),
        ({"Authorization": "Bearer wrong-token"}, 403),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ],
)
def test_metrics_need_the_metrics_token(
    tmp_path: Path, headers: dict[str, str], status: int
) -> None:
    response = client(tmp_path, TOKEN).get("/metrics", headers=headers)
    assert response.status_code == status
    assert ("hanoi247_outbox" in response.text) is (status == 200)


def test_metrics_are_closed_when_no_token_is_configured(tmp_path: Path) -> None:
    response = client(tmp_path, "").get("/metrics", headers={"Authorization": "Bearer x"})
    assert response.status_code == 403


def test_production_refuses_a_short_or_placeholder_metrics_token(tmp_path: Path) -> None:
    for token in ("changeme", "short-token"):
        with pytest.raises(ConfigurationError, match="HANOI247_METRICS_TOKEN"):
            Settings(tmp_path, environment="production", metrics_token=token).require_real_secrets()
    Settings(tmp_path, environment="production", metrics_token=TOKEN).require_real_secrets()
