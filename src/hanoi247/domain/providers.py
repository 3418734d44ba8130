"""Service providers: who holds the data a request is about, and how to reach them.

A node keeps a register of the providers it deals with: the legal process each accepts
(a preservation order, a production order...), the preservation period each applies, an
emergency contact and when the entry was last verified. The composer suggests the
custodian from it; the requested desk records which provider was ordered to preserve
(:class:`PreservationOrder`) and the day it confirmed, and that day feeds the
preservation clock: preserved until at least the minimum period of the rule data
(``[periods.preservation_minimum]``, Art. 42, unconfirmed there) after the provider's
confirmation, or the provider's own period when longer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hanoi247.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ServiceProvider:
    id: str
    name: str
    legal_process: tuple[str, ...]  # what it accepts: "preservation order", "court order"...
    preservation_days: int | None  # the period it applies; None: not known
    emergency_contact: str
    last_verified: date
    verified_by: str
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a service provider needs its name (field name)")
        if self.preservation_days is not None and not 1 <= self.preservation_days <= 3650:
            raise InvalidInput("preservation_days is between 1 and 3650, or unknown")
        if not self.verified_by.strip():
            raise InvalidInput("say who verified the provider's entry (field verified_by)")

    def matches(self, text: str) -> bool:
        """Whether ``text`` (a custodian as typed in a request) names this provider."""
        return self.name.casefold() in text.casefold()


@dataclass(frozen=True, slots=True)
class PreservationOrder:
    """The requested desk ordered ``provider_id`` to preserve the data of ``request_id``."""

    id: str
    request_id: str
    provider_id: str
    ordered_at: datetime
    ordered_by: str
    confirmed_on: date | None = None
    confirmed_by: str = ""

    def confirmed(self, on: date, *, by: str, today: date) -> PreservationOrder:
        if on < self.ordered_at.date() - timedelta(days=1) or on > today:
            raise InvalidInput(
                f"the provider confirmed between the order ({self.ordered_at.date()}) and "
                f"today ({today}), not on {on} (field confirmed_on)"
            )
        return dataclasses.replace(self, confirmed_on=on, confirmed_by=by)


def preserved_until(minimum_until: date, confirmed_on: date, provider_days: int | None) -> date:
    """The day preservation lasts until: the minimum of the rule data after the provider's
    confirmation (``minimum_until``), or the provider's own period when longer."""
    own = confirmed_on + timedelta(days=provider_days) if provider_days else minimum_until
    return max(minimum_until, own)


def suggest(providers: list[ServiceProvider], custodian: str) -> ServiceProvider | None:
    """The provider the custodian text names, if exactly one does."""
    found = [p for p in providers if custodian.strip() and p.matches(custodian)]
    return found[0] if len(found) == 1 else None
