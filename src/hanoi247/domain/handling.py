"""Handling restrictions: they travel with every request and are enforced (SIENA spirit).

* ``confidential`` — the request itself is confidential (Art. 40: confidentiality of the
  request, on demand of the requesting State);
* ``use_limited_to`` — what is given may be used for this purpose only (Art. 40: limits on
  the use of information; Budapest Art. 28);
* ``no_onward_transfer`` — nothing goes to a third State without the requesting State's
  consent. Consent is given State by State (``Consent``) by the requesting desk, in a
  signed message (``request.consent_granted``) that the holder cannot make up: a consent
  counts only with the id of the message that carried it. A refusal withdraws it. A
  forward to a State without consent raises ``HandlingRestricted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hanoi247.domain.errors import HandlingRestricted


def aware_utc(moment: datetime, name: str = "at") -> datetime:
    """``moment`` in UTC; a naive datetime is a programming error (``ValueError``)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Consent:
    """The requesting State's consent to pass the request (or its results) to a third State."""

    to_state: str  # ISO alpha-2 of the third State
    given_by: str  # officer id at the requesting desk that gave it
    at: datetime  # when it was given, at the requesting desk
    message_id: str = ""  # the signed message that carried it; "" (legacy record): void

    @property
    def signed(self) -> bool:
        return bool(self.message_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at))
        object.__setattr__(self, "to_state", self.to_state.strip().upper())


@dataclass(frozen=True, slots=True)
class HandlingRestrictions:
    confidential: bool = False
    use_limited_to: str | None = None
    no_onward_transfer: bool = False
    consents: tuple[Consent, ...] = ()

    @classmethod
    def from_payload(cls, handling: object) -> HandlingRestrictions:
        """From the request's ``handling`` object (already validated); absent: no restriction."""
        if not isinstance(handling, Mapping):
            return cls()
        return handling_from_dict(handling)

    def to_payload(self) -> dict[str, object]:
        """The ``handling`` object of the request (consents are the holder's records)."""
        return handling_to_dict(self)

    @property
    def restricted(self) -> bool:
        return self.confidential or self.no_onward_transfer or self.use_limited_to is not None

    def allows_transfer_to(self, state: str) -> bool:
        code = state.strip().upper()
        return not self.no_onward_transfer or any(
            c.to_state == code and c.signed for c in self.consents
        )

    def check_transfer(self, state: str, *, reference: str) -> None:
        """``HandlingRestricted`` unless the request may go on to ``state``."""
        if not self.allows_transfer_to(state):
            raise HandlingRestricted(
                f"{reference} is marked 'no onward transfer': it cannot be forwarded to "
                f"{state.strip().upper()} unless the requesting State consents first: ask it "
                "for consent from the case (the answer comes as a signed message from its node)"
            )

    def with_consent(self, consent: Consent) -> HandlingRestrictions:
        return replace(self, consents=(*self.without_consent(consent.to_state).consents, consent))

    def without_consent(self, state: str) -> HandlingRestrictions:
        code = state.strip().upper()
        return replace(self, consents=tuple(c for c in self.consents if c.to_state != code))


# -- the one dict form (request payload, peer messages, database rows, API views) ----------


def handling_to_dict(handling: HandlingRestrictions, *, consents: bool = False) -> dict[str, Any]:
    """``handling`` as JSON: every key always present, ``use_limited_to`` null when the use
    is not limited; ``consents`` (the holder's records, never sent to a peer) on demand."""
    data: dict[str, Any] = {
        "confidential": handling.confidential,
        "use_limited_to": handling.use_limited_to,
        "no_onward_transfer": handling.no_onward_transfer,
    }
    if consents:
        data["consents"] = [
            {
                "to_state": c.to_state,
                "given_by": c.given_by,
                "at": c.at.isoformat(),
                "message_id": c.message_id,
                "signed": c.signed,
            }
            for c in handling.consents
        ]
    return data


def handling_from_dict(data: Mapping[str, Any]) -> HandlingRestrictions:
    """The inverse of ``handling_to_dict``. Callers check the types first (``requests.validate``
    for a request, ``services.messages`` for a peer's message); here an absent flag is
    false, and an absent, null or blank ``use_limited_to`` means the use is not limited.
    A stored consent time without an offset is UTC (rows written before offsets were kept).
    """
    limited = data.get("use_limited_to")
    return HandlingRestrictions(
        confidential=data.get("confidential") is True,
        use_limited_to=limited if isinstance(limited, str) and limited.strip() else None,
        no_onward_transfer=data.get("no_onward_transfer") is True,
        consents=tuple(
            # A consent recorded locally before signed consents (``recorded_by``, no
            # ``message_id``) is read as void: it is shown, it never allows a forward.
            Consent(
                to_state=c["to_state"],
                given_by=c.get("given_by", c.get("recorded_by", "")),
                at=_utc(datetime.fromisoformat(str(c["at"]))),
                message_id=c.get("message_id", ""),
            )
            for c in data.get("consents", ())
        ),
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
