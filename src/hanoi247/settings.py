"""Node settings, read from the environment (``HANOI247_*``) and the node's data directory.

Nothing is read at import time: ``Settings.from_env()`` is called by the entrypoints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from hanoi247.domain.errors import ConfigurationError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "demo", "hanoi247"})
ENVIRONMENTS = ("production", "demo", "test")


def default_data_dir() -> Path:
    return Path.home() / ".hanoi247"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str = ""  # empty: SQLite in the data directory
    environment: str = "production"
    session_secret: str = ""
    replay_window_seconds: int = 300
    max_envelope_bytes: int = 2 * 1024 * 1024
    outbox_dead_letter_after_seconds: int = 24 * 3600
    outbox_max_backoff_seconds: float = 300.0
    outbox_backoff_base_seconds: float = 1.0
    outbox_lease_seconds: float = 30.0  # a claimed message is offered again after this
    outbox_poll_seconds: float = 0.5
    extra: Mapping[str, str] = field(default_factory=dict)

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
            session_secret=env.get("HANOI247_SESSION_SECRET", ""),
            replay_window_seconds=_int(env, "HANOI247_REPLAY_WINDOW_SECONDS", 300),
            max_envelope_bytes=_int(env, "HANOI247_MAX_ENVELOPE_BYTES", 2 * 1024 * 1024),
            outbox_dead_letter_after_seconds=_int(
                env, "HANOI247_DEAD_LETTER_AFTER_SECONDS", 24 * 3600
            ),
            outbox_max_backoff_seconds=_float(env, "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS", 300.0),
            outbox_backoff_base_seconds=_float(env, "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS", 1.0),
            outbox_lease_seconds=_float(env, "HANOI247_OUTBOX_LEASE_SECONDS", 30.0),
            outbox_poll_seconds=_float(env, "HANOI247_OUTBOX_POLL_SECONDS", 0.5),
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
        if self.environment == "production" and self.session_secret.lower() in PLACEHOLDER_SECRETS:
            raise ConfigurationError(
                "HANOI247_SESSION_SECRET is empty or a placeholder; set a random value of 32+ "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )


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
