"""The directory of contact points: who to call in each State, and how fresh that is.

Art. 41 has each State designate a point of contact available 24 hours a day, 7 days a
week; Art. 40 has it designate a central authority for mutual legal assistance. The
article references follow the rule data (``rules/uncc.toml``: ``[requests] article =
"Art. 41"``, the mutual assistance kinds ``Art. 40``), whose Chapter V numbering is not
confirmed yet: ``confirmed`` stays false until it is.

An entry is only as good as its last check: ``is_stale`` says when it is older than
``STALE_AFTER_DAYS`` (the twice-a-year cycle of the circulated lists).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

STALE_AFTER_DAYS = 180
_ISO2 = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ContactKind(enum.StrEnum):
    POINT_OF_CONTACT_24_7 = "point_of_contact_24_7"
    CENTRAL_AUTHORITY = "central_authority"


@dataclass(frozen=True, slots=True)
class KindBasis:
    article: str
    confirmed: bool = False


# From the rule data where it cites them (both unconfirmed there): never invented here.
KIND_BASIS: dict[ContactKind, KindBasis] = {
    ContactKind.POINT_OF_CONTACT_24_7: KindBasis("Art. 41", confirmed=False),
    ContactKind.CENTRAL_AUTHORITY: KindBasis("Art. 40", confirmed=False),
}

KNOWN_CHANNELS = ("hanoi247", "phone", "email", "fax")


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """One designated contact point of one State; (state, kind) identifies it."""

    state: str  # ISO alpha-2
    kind: ContactKind
    agency: str
    last_verified: date
    verified_by: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # ISO 639-1, in order of preference
    channels: tuple[str, ...] = ()  # "hanoi247", "phone", "email", "fax", ...
    requires_dual_criminality: bool | None = None  # None: unknown
    notes: str = ""
    node_id: str | None = None  # the pinned peer that serves it, if any
    hours: str = ""  # when it answers: "24/7", "Mon-Fri 08:00-18:00 UTC+1"
    emergency_channel: str = ""  # how to reach it at once: a phone, "hanoi247", ...

    def __post_init__(self) -> None:
        if not _ISO2.match(self.state):
            raise ValueError(f"state must be an ISO alpha-2 code in capitals, not {self.state!r}")
        object.__setattr__(self, "kind", ContactKind(self.kind))
        if not self.agency.strip():
            raise ValueError("a contact point needs its agency")
        if not self.verified_by.strip():
            raise ValueError("say who verified the contact point")
        for language in self.languages:
            if not _LANGUAGE.match(language):
                raise ValueError(f"languages are ISO 639-1 codes (fr, en), not {language!r}")
        for channel in self.channels:
            if not _CHANNEL.match(channel):
                raise ValueError(f"not a channel name: {channel!r}")
        for email in self.emails:
            if "@" not in email:
                raise ValueError(f"not an e-mail address: {email!r}")

    @property
    def basis(self) -> KindBasis:
        return KIND_BASIS[self.kind]

    def age_days(self, today: date) -> int:
        return (today - self.last_verified).days

    def is_stale(self, today: date, max_age_days: int = STALE_AFTER_DAYS) -> bool:
        """Whether the last check is more than ``max_age_days`` days before ``today``."""
        return today - self.last_verified > timedelta(days=max_age_days)

    def verified(self, on: date, by: str) -> ContactPoint:
        return dataclasses.replace(self, last_verified=on, verified_by=by)


# --- how fresh a peer's entry is -------------------------------------------------------

CHECK_CHANNELS = ("drill", "phone", "in_person", "card")
PINNED = "pinned"  # no check yet: the day the peer was pinned is the last verification


@dataclass(frozen=True, slots=True)
class PeerCheck:
    """A person checked a peer's entry: when, who (a name), by which channel (a drill a
    person acknowledged, a phone call, a meeting in person, the peer's signed card)."""

    node_id: str
    at: datetime
    by: str
    channel: str

    def __post_init__(self) -> None:
        if self.channel not in CHECK_CHANNELS:
            raise ValueError(f"a check is by {', '.join(CHECK_CHANNELS)}, not {self.channel!r}")
        if self.at.utcoffset() is None:
            raise ValueError("at must be timezone-aware")
        if not self.by.strip():
            raise ValueError("say who checked the peer")


@dataclass(frozen=True, slots=True)
class Freshness:
    verified_at: datetime
    verified_by: str
    channel: str  # one of CHECK_CHANNELS, or PINNED
    stale: bool


def freshness(
    *,
    pinned_at: datetime,
    pinned_by: str,
    check: PeerCheck | None,
    now: datetime,
    stale_after: timedelta,
) -> Freshness:
    """When the entry was last verified, by whom and how; stale past ``stale_after``."""
    if check is None or check.at < pinned_at:
        at, by, channel = pinned_at, pinned_by, PINNED
    else:
        at, by, channel = check.at, check.by, check.channel
    return Freshness(at, by, channel, now - at > stale_after)


def parse_dual_criminality(value: str) -> bool | None:
    """``yes`` / ``no`` / ``unknown`` (as typed or stored) to True / False / None."""
    match value.strip().lower():
        case "yes" | "true":
            return True
        case "no" | "false":
            return False
        case "unknown" | "":
            return None
    raise ValueError(f"dual criminality is yes, no or unknown, not {value!r}")


def dual_criminality_word(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
