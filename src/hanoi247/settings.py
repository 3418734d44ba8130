"""Node settings, read from the environment (``HANOI247_*``) and the node's data directory.

Nothing is read at import time: ``Settings.from_env()`` is called by the entrypoints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from hanoi247.domain.errors import ConfigurationError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "demo", "hanoi247"})
ENVIRONMENTS = ("production", "demo", "test")
LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")


def default_data_dir() -> Path:
    return Path.home() / ".hanoi247"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str = ""  # empty: SQLite in the data directory
    environment: str = "production"
    metrics_token: str = field(default="", repr=False)  # empty: /metrics answers 403
    replay_window_seconds: int = 300
    max_envelope_bytes: int = 2 * 1024 * 1024
    outbox_dead_letter_after_seconds: int = 24 * 3600
    outbox_max_backoff_seconds: float = 300.0
    outbox_backoff_base_seconds: float = 1.0
    outbox_lease_seconds: float = 30.0  # a claimed message is offered again after this
    outbox_poll_seconds: float = 0.5
    # Failures in a row before the supervisor on duty hears that a peer is down (its
    # messages wait from the first failure; the alert waits for a real outage).
    outbox_peer_down_alert_failures: int = 3
    # A time to live per message type ("request.submitted" -> seconds): a message to an
    # unreachable peer waits, however long, unless its type has one here. None is set by
    # default: the rule data (rules/*.toml) records no expiry for a message in transit; an
    # operator who knows of one in their law sets HANOI247_OUTBOX_TTL=type=seconds,...
    outbox_ttl_seconds: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)
    # Alerts (adapters/notify/factory.py): e-mail when smtp_host is set, webhook when
    # webhook_url is set, in-app always.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout_seconds: float = 30.0
    webhook_url: str = ""
    deadline_poll_seconds: float = 15.0  # how often the deadline worker looks at the clocks
    notify_max_attempts: int = 10  # delivery rounds with a failing channel before "failed"
    # Audit checkpoints sent to every peer: after this many new entries, or this long.
    audit_checkpoint_entries: int = 100
    audit_checkpoint_minutes: float = 60.0
    # How long the one-time enrolment code of a new account works (services/enrolment.py).
    enrolment_hours: float = 72.0
    # The desk's clocks (rules/uncc.toml [clocks] keys), e.g. acknowledge_urgent_minutes.
    clock_overrides: Mapping[str, object] = field(default_factory=dict)
    # Evidence store: the filesystem in DATA_DIR/evidence unless an S3 endpoint is set.
    evidence_s3_endpoint: str = ""
    evidence_s3_bucket: str = "hanoi247-evidence"
    evidence_s3_access_key: str = ""
    evidence_s3_secret_key: str = field(default="", repr=False)
    evidence_s3_region: str = "us-east-1"
    evidence_poll_seconds: float = 5.0  # how often `serve` pulls evidence offered by peers
    # A directory entry not verified (drill, phone, in person, the peer's card) for this many
    # days is flagged STALE (docs/operations.md).
    directory_stale_after_days: int = 180
    # The secret key that encrypts TOTP secrets, case content and key files at rest
    # (adapters/crypto/secret_key.py): a file off the data disk, a systemd credential, or
    # a passphrase typed at start (never read from the environment).
    secret_key_file: Path | None = None
    secret_key_inside_data_dir: bool = False  # explicit override of the refusal
    credentials_directory: Path | None = None  # systemd's $CREDENTIALS_DIRECTORY
    secret_passphrase: str = field(default="", repr=False)
    # What `serve` logs (entrypoints/logging_setup.py): one JSON object per line by default
    # in production (journald, a log shipper), readable lines elsewhere; and from which level.
    log_format: str = ""  # empty: json in production, console in demo and test
    log_level: str = "info"

    @property
    def enrolment_ttl(self) -> timedelta:
        return timedelta(hours=self.enrolment_hours)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, data_dir: Path | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        directory = data_dir or Path(env.get("HANOI247_DATA_DIR") or default_data_dir())
        environment = env.get("HANOI247_ENV", "production")
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"HANOI247_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}"
            )
        settings = cls(
            data_dir=directory.expanduser(),
            database_url=env.get("HANOI247_DATABASE_URL", ""),
            environment=environment,
            metrics_token=env.get("HANOI247_METRICS_TOKEN", ""),
            replay_window_seconds=_int(env, "HANOI247_REPLAY_WINDOW_SECONDS", 300),
            max_envelope_bytes=_int(env, "HANOI247_MAX_ENVELOPE_BYTES", 2 * 1024 * 1024),
            outbox_dead_letter_after_seconds=_int(
                env, "HANOI247_DEAD_LETTER_AFTER_SECONDS", 24 * 3600
            ),
            outbox_max_backoff_seconds=_float(env, "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS", 300.0),
            outbox_backoff_base_seconds=_float(env, "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS", 1.0),
            outbox_lease_seconds=_float(env, "HANOI247_OUTBOX_LEASE_SECONDS", 30.0),
            outbox_poll_seconds=_float(env, "HANOI247_OUTBOX_POLL_SECONDS", 0.5),
            outbox_peer_down_alert_failures=_int(
                env, "HANOI247_OUTBOX_PEER_DOWN_ALERT_FAILURES", 3
            ),
            outbox_ttl_seconds=_ttls(env),
            smtp_host=env.get("HANOI247_SMTP_HOST", ""),
            smtp_port=_int(env, "HANOI247_SMTP_PORT", 587),
            smtp_from=env.get("HANOI247_SMTP_FROM", ""),
            smtp_starttls=_bool(env, "HANOI247_SMTP_STARTTLS", True),
            smtp_username=env.get("HANOI247_SMTP_USERNAME", ""),
            smtp_password=env.get("HANOI247_SMTP_PASSWORD", ""),
            smtp_timeout_seconds=_float(env, "HANOI247_SMTP_TIMEOUT_SECONDS", 30.0),
            webhook_url=env.get("HANOI247_WEBHOOK_URL", ""),
            deadline_poll_seconds=_float(env, "HANOI247_DEADLINE_POLL_SECONDS", 15.0),
            notify_max_attempts=_int(env, "HANOI247_NOTIFY_MAX_ATTEMPTS", 10),
            audit_checkpoint_entries=_int(env, "HANOI247_AUDIT_CHECKPOINT_ENTRIES", 100),
            audit_checkpoint_minutes=_float(env, "HANOI247_AUDIT_CHECKPOINT_MINUTES", 60.0),
            enrolment_hours=_float(env, "HANOI247_ENROLMENT_HOURS", 72.0),
            clock_overrides=_clock_overrides(env),
            evidence_s3_endpoint=env.get("HANOI247_EVIDENCE_S3_ENDPOINT", ""),
            evidence_s3_bucket=env.get("HANOI247_EVIDENCE_S3_BUCKET", "hanoi247-evidence"),
            evidence_s3_access_key=env.get("HANOI247_EVIDENCE_S3_ACCESS_KEY", ""),
            evidence_s3_secret_key=env.get("HANOI247_EVIDENCE_S3_SECRET_KEY", ""),
            evidence_s3_region=env.get("HANOI247_EVIDENCE_S3_REGION", "us-east-1"),
            evidence_poll_seconds=_float(env, "HANOI247_EVIDENCE_POLL_SECONDS", 5.0),
            directory_stale_after_days=_int(env, "HANOI247_DIRECTORY_STALE_AFTER_DAYS", 180),
            secret_key_file=_path(env, "HANOI247_SECRET_KEY_FILE"),
            secret_key_inside_data_dir=_bool(env, "HANOI247_SECRET_KEY_INSIDE_DATA_DIR", False),
            credentials_directory=_path(env, "CREDENTIALS_DIRECTORY"),
            log_format=_choice(env, "HANOI247_LOG_FORMAT", LOG_FORMATS, ""),
            log_level=_choice(env, "HANOI247_LOG_LEVEL", LOG_LEVELS, "info"),
        )
        return settings

    def with_data_dir(self, data_dir: Path) -> Settings:
        return replace(self, data_dir=data_dir)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'hanoi247.sqlite3'}"

    def require_real_secrets(self) -> None:
        """Refuse placeholder secrets outside demo and test (CONVENTIONS 13)."""
        if self.environment != "production" or not self.metrics_token:
            return
        if self.metrics_token.lower() in PLACEHOLDER_SECRETS or len(self.metrics_token) < 24:
            raise ConfigurationError(
                "HANOI247_METRICS_TOKEN is a placeholder or shorter than 24 characters; set a "
                "random value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                " or leave it unset to close /metrics"
            )


def _path(env: Mapping[str, str], key: str) -> Path | None:
    raw = env.get(key, "")
    return Path(raw).expanduser() if raw else None


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{key}={raw!r} is not a whole number") from None


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{key}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigurationError(f"{key}={raw!r} must be greater than zero")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

# HANOI247_* variable -> the [clocks] key it overrides (rules/uncc.toml; configuration,
# not law: the legal minimum preservation period cannot be changed here).
CLOCK_VARIABLES = {
    "HANOI247_ACK_EMERGENCY_MINUTES": "acknowledge_emergency_minutes",
    "HANOI247_ACK_URGENT_MINUTES": "acknowledge_urgent_minutes",
    "HANOI247_ACK_ROUTINE_MINUTES": "acknowledge_routine_minutes",
    "HANOI247_FOLLOW_UP_FLAG_DAYS": "follow_up_flag_days_before_expiry",
    "HANOI247_RESPOND_EMERGENCY_HOURS": "respond_emergency_hours",
    "HANOI247_CONFIRM_PRESERVATION_EMERGENCY_MINUTES": "confirm_preservation_emergency_minutes",
    "HANOI247_CONFIRM_PRESERVATION_URGENT_MINUTES": "confirm_preservation_urgent_minutes",
    "HANOI247_CONFIRM_PRESERVATION_ROUTINE_MINUTES": "confirm_preservation_routine_minutes",
}


def _choice(env: Mapping[str, str], key: str, choices: tuple[str, ...], default: str) -> str:
    raw = (env.get(key) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigurationError(f"{key}={env.get(key)!r} is not one of {', '.join(choices)}")
    return raw


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ConfigurationError(f"{key}={raw!r} is not true or false")


def _ttls(env: Mapping[str, str]) -> dict[str, int]:
    """``HANOI247_OUTBOX_TTL=request.submitted=86400,...``: a time to live per type."""
    found: dict[str, int] = {}
    raw = env.get("HANOI247_OUTBOX_TTL", "")
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, _, seconds = part.partition("=")
        if not name.strip() or not seconds.strip().isdigit() or int(seconds) <= 0:
            raise ConfigurationError(
                f"HANOI247_OUTBOX_TTL: {part!r} is not type=seconds (e.g. request.submitted=86400)"
            )
        found[name.strip()] = int(seconds)
    return found


def _clock_overrides(env: Mapping[str, str]) -> dict[str, object]:
    """``[clocks]`` overrides from the environment (validated again by ``load_clocks``)."""
    found: dict[str, object] = {}
    for variable, key in CLOCK_VARIABLES.items():
        if env.get(variable):
            found[key] = _int(env, variable, 0)
    raw = env.get("HANOI247_PRESERVATION_WARNING_DAYS")
    if raw:
        try:
            found["preservation_warning_days"] = [int(p) for p in raw.split(",") if p.strip()]
        except ValueError:
            raise ConfigurationError(
                f"HANOI247_PRESERVATION_WARNING_DAYS={raw!r} is not a list of days like 7,1"
            ) from None
    return found
