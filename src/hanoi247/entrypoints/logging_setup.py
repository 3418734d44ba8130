"""How ``hanoi247 serve`` logs: structlog, configured once per server process.

In production every event is one JSON object on a line of standard output (``event``,
``level``, ``timestamp`` in UTC, and the event's own fields), for journald or a log shipper;
in demo and test, readable lines. ``HANOI247_LOG_FORMAT`` (``json`` or ``console``) and
``HANOI247_LOG_LEVEL`` (``debug``, ``info``, ``warning``, ``error``) override.

Events below the level are dropped where they are made (a filtering bound logger), and the
logger is built once per name, not on every call: the per-message log lines cost a few per
cent of a busy node's CPU with structlog's unconfigured defaults. Events carry identifiers
and codes, never case content (the code that logs is responsible for that).
"""

from __future__ import annotations

import logging
import sys

import structlog

from hanoi247.settings import Settings

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def log_format(settings: Settings) -> str:
    """``json`` or ``console``: the setting, else JSON in production only."""
    if settings.log_format:
        return settings.log_format
    return "json" if settings.environment == "production" else "console"


def configure_logging(settings: Settings) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if log_format(settings) == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
