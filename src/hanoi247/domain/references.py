"""Value types around a request: direction, references and links, results, desks.

References are human (``VN-2026-000123``: the requesting State, the year, a number the
requesting node counts per year) and the same on both nodes; ids are UUIDv7.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hanoi247.domain.lifecycle import Action

PRESERVATION_KINDS = frozenset({"preservation"})
FOLLOW_UP_KINDS = frozenset({"mla"})  # the request a preservation announces (Art. 42(2)(f))
HEADER_FIELDS = (
    "kind",
    "to",
    "urgency",
    "handling",
    "extension",
    "extends_reference",
    "related_reference",
)
SYSTEM_ACTORS = frozenset({"system", "node", "machine"})

REQUESTED_DESK = frozenset(
    {
        Action.RECEIVE,
        Action.ACKNOWLEDGE,
        Action.ASK_CLARIFICATION,
        Action.CONFIRM_PRESERVATION,
        Action.REPORT_CANNOT_ENSURE,
        Action.EXTEND_PRESERVATION,
        Action.REFUSE,
        Action.EXECUTE_PARTIALLY,
        Action.EXECUTE,
    }
)
REQUESTING_DESK = frozenset({Action.SEND, Action.ANSWER_CLARIFICATION, Action.WITHDRAW})
ANSWERS = REQUESTED_DESK - {Action.RECEIVE}  # answering at once also acknowledges

_REFERENCE = re.compile(r"(?P<prefix>[A-Z]{2})-(?P<year>\d{4})-(?P<number>\d{6,})")


def format_reference(prefix: str, year: int, number: int) -> str:
    """``VN-2026-000123``: the requesting State, the year, the node's count of that year."""
    return f"{prefix.upper()}-{year:04d}-{number:06d}"


def is_reference(text: str) -> bool:
    return _REFERENCE.fullmatch(text) is not None


class Direction(enum.StrEnum):
    OUTGOING = "outgoing"  # this node's State requests
    INCOMING = "incoming"  # this node's State is requested


@dataclass(frozen=True, slots=True)
class RequestRef:
    """Another request, by reference (always) and id (when this node knows it)."""

    reference: str
    request_id: str | None = None
    state: str | None = None  # for forwards: the State the request went to / came from


@dataclass(frozen=True, slots=True)
class Links:
    related: RequestRef | None = None  # ``related_reference`` (Art. 43: its preservation)
    follow_up_of: RequestRef | None = None  # an MLA request: the preservation it follows up
    follow_up: RequestRef | None = None  # a preservation: its follow-up MLA request
    extends: RequestRef | None = None  # an extension request: the original preservation
    extended_by: tuple[RequestRef, ...] = ()
    forwarded_from: RequestRef | None = None
    forwarded_to: tuple[RequestRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Results:
    """What an execution produced: a summary and the ids of evidence packages sent apart."""

    summary: str
    evidence_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.summary.strip():
            raise ValueError("results need a summary")


def split_payload(payload: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """(header fields, elements) of a request's JSON."""
    header = {k: v for k, v in payload.items() if k in HEADER_FIELDS}
    return header, {k: v for k, v in payload.items() if k not in HEADER_FIELDS}
