"""`serve`'s logs: JSON lines in production, readable lines in demo and test, a level
that drops what is below it, and one clear error for a setting that is not one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from hanoi247.domain.errors import ConfigurationError
from hanoi247.entrypoints.logging_setup import configure_logging, log_format
from hanoi247.settings import Settings


@pytest.fixture(autouse=True)
def _defaults_again() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def settings(**env: str) -> Settings:
    return Settings.from_env(env, data_dir=Path("/nonexistent"))


def test_production_logs_one_json_object_per_line_with_level_and_utc_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings())
    structlog.get_logger("test-json").info("outbox_delivered", peer="fr-oclctic", count=3)
    [line] = capsys.readouterr().out.splitlines()
    event = json.loads(line)
    assert event["event"] == "outbox_delivered"
    assert (event["peer"], event["count"], event["level"]) == ("fr-oclctic", 3, "info")
    assert event["timestamp"].endswith("Z")


def test_demo_and_test_log_readable_lines_unless_json_is_asked_for() -> None:
    assert log_format(settings(HANOI247_ENV="demo")) == "console"
    assert log_format(settings(HANOI247_ENV="test")) == "console"
    assert log_format(settings(HANOI247_ENV="demo", HANOI247_LOG_FORMAT="JSON")) == "json"
    assert log_format(settings(HANOI247_LOG_FORMAT="console")) == "console"


def test_events_below_the_level_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings(HANOI247_LOG_LEVEL="warning"))
    log = structlog.get_logger("test-level")
    log.info("evidence_pulled", items=1)
    log.warning("evidence_pull_failed", error="PeerUnreachable")
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["evidence_pull_failed"]


@pytest.mark.parametrize(
    ("key", "value"), [("HANOI247_LOG_FORMAT", "xml"), ("HANOI247_LOG_LEVEL", "verbose")]
)
def test_a_log_setting_that_is_not_one_of_its_choices_is_one_clear_error(
    key: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{key}='{value}' is not one of"):
        settings(**{key: value})
