"""Alert channels and desk clocks from the environment (``HANOI247_SMTP_*``,
``HANOI247_WEBHOOK_URL``, ``HANOI247_ACK_*_MINUTES``...)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.crypto.webhook_key import generate_webhook_key
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.notify.factory import MarkedSmtpChannel, build_channels
from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.adapters.notify.webhook import WebhookChannel
from hanoi247.domain.deadlines import load_clocks
from hanoi247.domain.errors import ConfigurationError, RuleDataError
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.requests import Urgency
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings

SMTP = {
    "HANOI247_SMTP_HOST": "smtp.mps.gov.vn.example",
    "HANOI247_SMTP_FROM": "hanoi247@mps.gov.vn.example",
}
LOCAL = LocalNode(
    identity=NodeIdentity("vn-a05", "VN", "Test VN", "https://vn-a05.test"),
    keys=generate_node_keys(),
    webhook_key=generate_webhook_key(),
)


def settings(**env: str) -> Settings:
    return Settings.from_env(env, data_dir=Path("/nonexistent"))


def channels(**env: str) -> list[object]:
    return list(build_channels(settings(**env), local=LOCAL, hub=InAppHub(), clock=SystemClock()))


def test_without_configuration_alerts_are_in_app_only() -> None:
    assert [c.name for c in channels()] == ["in_app"]  # type: ignore[attr-defined]
    defaults = settings()
    assert (defaults.smtp_port, defaults.smtp_starttls) == (587, True)
    assert defaults.deadline_poll_seconds == 15.0


def test_smtp_settings_build_the_email_channel_and_hide_the_password() -> None:
    configured = settings(
        **SMTP,
        HANOI247_SMTP_PORT="2525",
        HANOI247_SMTP_STARTTLS="false",
        HANOI247_SMTP_USERNAME="hanoi247",
        HANOI247_SMTP_PASSWORD="s3cret-pw",
    )
    [email, in_app] = build_channels(configured, local=LOCAL, hub=InAppHub(), clock=SystemClock())

    assert isinstance(email, MarkedSmtpChannel)
    assert (email.host, email.port, email.starttls) == ("smtp.mps.gov.vn.example", 2525, False)
    assert email.username == "hanoi247"
    assert in_app.name == "in_app"
    assert "s3cret-pw" not in repr(configured)
    assert "s3cret-pw" not in repr(email)


@pytest.mark.parametrize(
    "env",
    [
        {"HANOI247_SMTP_HOST": "smtp.example.org"},  # no sender address
        {**SMTP, "HANOI247_SMTP_FROM": "not an address"},
        {**SMTP, "HANOI247_SMTP_USERNAME": "only-the-user"},
        {"HANOI247_WEBHOOK_URL": "ftp://hooks.example.org/"},
        {"HANOI247_SMTP_STARTTLS": "maybe"},
        {"HANOI247_SMTP_PORT": "twenty-five"},
    ],
)
def test_incomplete_or_wrong_settings_are_refused_with_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        channels(**env)


def test_the_webhook_is_signed_with_its_own_key_not_the_node_signing_key() -> None:
    [webhook, _] = channels(HANOI247_WEBHOOK_URL="https://soc.mps.gov.vn.example/hooks")

    assert isinstance(webhook, WebhookChannel)
    assert LOCAL.webhook_key is not None
    assert webhook.key_id == LOCAL.webhook_key.kid
    assert webhook.key_id not in {LOCAL.keys.signing_kid, LOCAL.keys.encryption_kid}


def test_a_webhook_url_without_a_webhook_key_says_how_to_create_it() -> None:
    without_key = replace(LOCAL, webhook_key=None, data_dir=Path("/srv/hanoi247"))
    configured = settings(HANOI247_WEBHOOK_URL="https://soc.mps.gov.vn.example/hooks")

    with pytest.raises(ConfigurationError, match="hanoi247 webhook key --create --data-dir"):
        build_channels(configured, local=without_key, hub=InAppHub(), clock=SystemClock())


def test_the_desk_clocks_can_be_configured_but_not_broken() -> None:
    uncc = TreatyCatalogue.packaged().instrument("uncc")
    configured = settings(
        HANOI247_ACK_EMERGENCY_MINUTES="10",
        HANOI247_ACK_URGENT_MINUTES="30",
        HANOI247_PRESERVATION_WARNING_DAYS="14,7,1",
        HANOI247_FOLLOW_UP_FLAG_DAYS="21",
    )
    clocks = load_clocks(uncc, configured.clock_overrides)

    assert clocks.acknowledge_within(Urgency.EMERGENCY).total_seconds() == 600
    assert clocks.acknowledge_within(Urgency.URGENT).total_seconds() == 1800
    assert clocks.acknowledge_within(Urgency.ROUTINE).days == 1  # the rule file's default
    assert [w.days for w in clocks.preservation_warnings] == [14, 7, 1]
    assert clocks.follow_up_flag_before.days == 21
    with pytest.raises(RuleDataError):
        load_clocks(uncc, settings(HANOI247_ACK_URGENT_MINUTES="0").clock_overrides)
    with pytest.raises(ConfigurationError):
        settings(HANOI247_PRESERVATION_WARNING_DAYS="a week")
