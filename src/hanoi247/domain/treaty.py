"""Legal instruments, participants' actions, and who is bound by what on which day.

Everything legal comes from rule data (``rules/<instrument>.toml``): the threshold of
instruments, the periods, whether a regional economic integration organization's
instrument counts. This module only applies those rules to dated actions.

How entry into force is computed (UN Convention, Art. 65, as encoded in ``uncc.toml``):

* Only consent to be bound counts: ratification, acceptance, approval or accession.
  Signature alone never binds.
* Each participant's instrument counts once: a second deposit by the same participant
  is not counted again.
* A REIO's instrument (the European Union's) is not counted as additional to those of
  its member States when the rule says so (Art. 65(1)).
* The instrument enters into force after ``period`` following the deposit of the
  ``threshold``-th counted instrument (Art. 65(1): 90th day after the 40th).
* A participant that deposits after that threshold instrument is bound after the
  ``later`` period following its own deposit, or from entry into force, whichever is
  later (Art. 65(2), to confirm).
* A denunciation takes effect after the ``denunciation`` period following its
  notification; the participant is bound up to the day before that.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from hanoi247.domain.errors import RuleDataError


class ActionKind(enum.StrEnum):
    SIGNATURE = "signature"
    RATIFICATION = "ratification"
    ACCEPTANCE = "acceptance"
    APPROVAL = "approval"
    ACCESSION = "accession"
    DECLARATION = "declaration"
    RESERVATION = "reservation"
    DESIGNATION_POINT_OF_CONTACT = "designation_point_of_contact"
    DESIGNATION_CENTRAL_AUTHORITY = "designation_central_authority"
    DENUNCIATION = "denunciation"


CONSENT_ACTIONS = frozenset(
    {ActionKind.RATIFICATION, ActionKind.ACCEPTANCE, ActionKind.APPROVAL, ActionKind.ACCESSION}
)


@dataclass(frozen=True, slots=True)
class TreatyAction:
    """One dated act of a participant towards an instrument, as the depositary records it."""

    participant: str  # ISO alpha-2, "EU" for the European Union
    instrument: str  # rule file id: "uncc", "budapest"
    action: ActionKind
    on: date
    source: str = ""
    note: str = ""
    value: str = ""  # what a declaration, reservation or designation says (declarations.py)


@dataclass(frozen=True, slots=True)
class Period:
    """A span of time as treaties state it.

    ``days`` and ``months`` are added in that order (months first); with
    ``first_of_following_month`` the result moves to the first day of the month that
    follows (Council of Europe style: "the first day of the month following the expiration
    of a period of three months after ...").
    """

    days: int = 0
    months: int = 0
    first_of_following_month: bool = False

    def after(self, start: date) -> date:
        result = _add_months(start, self.months) + timedelta(days=self.days)
        if self.first_of_following_month:
            year, month = (
                (result.year + 1, 1) if result.month == 12 else (result.year, result.month + 1)
            )
            result = date(year, month, 1)
        return result

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str) -> Period:
        unknown = set(data) - {"days", "months", "first_of_following_month"}
        if unknown:
            raise RuleDataError(f"{where}: unknown period keys {sorted(unknown)}")
        days, months, first = (
            data.get("days", 0),
            data.get("months", 0),
            data.get("first_of_following_month", False),
        )
        if not isinstance(days, int) or not isinstance(months, int) or not isinstance(first, bool):
            raise RuleDataError(f"{where}: days and months must be integers")
        return cls(days=days, months=months, first_of_following_month=first)


def _add_months(start: date, months: int) -> date:
    if months == 0:
        return start
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True, slots=True)
class EntryIntoForceRule:
    article: str
    threshold: int
    period: Period
    later_article: str
    later_period: Period
    reio_counted: bool
    denunciation_article: str
    denunciation_period: Period
    fixed_date: date | None = None  # a recorded fact overrides the computation
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    title: str
    short_title: str
    adopted: date | None
    entry_into_force: EntryIntoForceRule
    rules: Mapping[str, object] = field(default_factory=dict)  # the whole parsed rule file


@dataclass(frozen=True, slots=True)
class Membership:
    """One span during which a participant is (or will be) bound."""

    participant: str
    deposited: date
    counted: bool  # counts toward the entry-into-force threshold
    in_force_from: date | None  # None while the instrument is not yet in force
    until: date | None = None  # first day no longer bound (denunciation effective)

    def binds_on(self, on: date) -> bool:
        return (
            self.in_force_from is not None
            and self.in_force_from <= on
            and (self.until is None or on < self.until)
        )


@dataclass(frozen=True, slots=True)
class InstrumentStatus:
    instrument: str
    on: date
    counted_instruments: int  # counted deposits made on or before ``on``
    threshold_deposit: date | None  # the deposit that reached the threshold, if by ``on``
    entry_into_force: date | None
    memberships: tuple[Membership, ...]

    def parties_on(self, on: date | None = None) -> list[Membership]:
        day = on or self.on
        return [m for m in self.memberships if m.binds_on(day)]

    def bound_since(self, participant: str, on: date | None = None) -> date | None:
        day = on or self.on
        for m in self.memberships:
            if m.participant == participant and m.binds_on(day):
                return m.in_force_from
        return None


def instrument_status(
    instrument: Instrument,
    actions: Iterable[TreatyAction],
    *,
    on: date,
    is_reio: Mapping[str, bool],
) -> InstrumentStatus:
    """Apply the instrument's rules to every action dated on or before ``on``."""
    rule = instrument.entry_into_force
    relevant = sorted(
        (a for a in actions if a.instrument == instrument.id and a.on <= on),
        key=lambda a: a.on,
    )

    # 1. Spans of membership per participant, from consent to denunciation.
    spans: list[tuple[str, date, date | None]] = []  # participant, deposited, until
    open_span: dict[str, int] = {}
    for act in relevant:
        if act.action in CONSENT_ACTIONS:
            if act.participant in open_span:
                continue  # a second deposit while bound is not counted again
            open_span[act.participant] = len(spans)
            spans.append((act.participant, act.on, None))
        elif act.action is ActionKind.DENUNCIATION and act.participant in open_span:
            index = open_span.pop(act.participant)
            who, deposited, _ = spans[index]
            spans[index] = (who, deposited, rule.denunciation_period.after(act.on))

    # 2. Which deposits count, and the one that reached the threshold.
    seen: set[str] = set()
    counted_flags: list[bool] = []
    threshold_deposit: date | None = None
    counted = 0
    for who, deposited, _ in spans:
        counts = who not in seen and (rule.reio_counted or not is_reio.get(who, False))
        seen.add(who)
        counted_flags.append(counts)
        if counts:
            counted += 1
            if counted == rule.threshold and threshold_deposit is None:
                threshold_deposit = deposited

    if rule.fixed_date is not None:
        entry = rule.fixed_date
    elif threshold_deposit is not None:
        entry = rule.period.after(threshold_deposit)
    else:
        entry = None

    # 3. When each span starts to bind.
    memberships = []
    for (who, deposited, until), counts in zip(spans, counted_flags, strict=True):
        start: date | None
        if entry is None:
            start = None
        elif threshold_deposit is not None and deposited <= threshold_deposit:
            start = entry  # Art. 65(1): the first instruments bind from entry into force
        else:
            start = max(entry, rule.later_period.after(deposited))  # Art. 65(2)
        if start is not None and until is not None and until <= start:
            start = None  # denounced before it ever bound
        memberships.append(Membership(who, deposited, counts, start, until))

    return InstrumentStatus(
        instrument=instrument.id,
        on=on,
        counted_instruments=counted,
        threshold_deposit=threshold_deposit,
        entry_into_force=entry,
        memberships=tuple(memberships),
    )


@dataclass(frozen=True, slots=True)
class LegalBasis:
    instrument: str
    in_force_since: date


def in_force_between(
    instrument: Instrument,
    actions: Iterable[TreatyAction],
    a: str,
    b: str,
    *,
    on: date,
    is_reio: Mapping[str, bool],
) -> date | None:
    """The day since which ``instrument`` binds both ``a`` and ``b`` on ``on``, or None."""
    status = instrument_status(instrument, actions, on=on, is_reio=is_reio)
    since_a, since_b = status.bound_since(a.upper()), status.bound_since(b.upper())
    if since_a is None or since_b is None:
        return None
    return max(since_a, since_b)


def legal_bases(
    instruments: Sequence[Instrument],
    actions: Sequence[TreatyAction],
    a: str,
    b: str,
    *,
    on: date,
    is_reio: Mapping[str, bool],
) -> list[LegalBasis]:
    """Every instrument in force between ``a`` and ``b`` on ``on``, in rule-file order."""
    bases = []
    for instrument in instruments:
        since = in_force_between(instrument, actions, a, b, on=on, is_reio=is_reio)
        if since is not None:
            bases.append(LegalBasis(instrument.id, since))
    return bases
