"""Entry into force of the UN Convention (Art. 65) and the Budapest Convention, per rule data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.treaty import (
    ActionKind,
    Instrument,
    Period,
    TreatyAction,
    in_force_between,
    instrument_status,
    legal_bases,
)

# Forty-five distinct two-letter codes that are not real participants' semantics-bearing
# (the engine does not care which States they are); "EU" is the REIO.
CODES = [f"{a}{b}" for a in "BCDFGHJKLMNP" for b in "ABCDEFGH"][:45]
REIO = {"EU": True}


@pytest.fixture(scope="module")
def uncc() -> Instrument:
    return load_instrument("uncc")


@pytest.fixture(scope="module")
def budapest() -> Instrument:
    return load_instrument("budapest")


def deposit(who: str, on: date, action: ActionKind = ActionKind.RATIFICATION) -> TreatyAction:
    return TreatyAction(participant=who, instrument="uncc", action=action, on=on)


def forty_deposits(start: date = date(2026, 1, 1)) -> list[TreatyAction]:
    """Forty States each deposit on a different day: the 40th on start + 39 days."""
    return [deposit(CODES[i], start + timedelta(days=i)) for i in range(40)]


def test_nothing_in_force_with_thirty_nine_instruments(uncc: Instrument) -> None:
    actions = forty_deposits()[:39]
    status = instrument_status(uncc, actions, on=date(2030, 1, 1), is_reio=REIO)
    assert status.counted_instruments == 39
    assert status.entry_into_force is None
    assert status.parties_on() == []


def test_enters_into_force_on_the_90th_day_after_the_40th_deposit(uncc: Instrument) -> None:
    actions = forty_deposits()
    fortieth = date(2026, 1, 1) + timedelta(days=39)  # 2026-02-09
    status = instrument_status(uncc, actions, on=date(2026, 12, 31), is_reio=REIO)
    assert status.counted_instruments == 40
    assert status.threshold_deposit == fortieth
    assert status.entry_into_force == fortieth + timedelta(days=90) == date(2026, 5, 10)
    # The day before, nobody is bound; on the day, all forty are.
    assert status.parties_on(date(2026, 5, 9)) == []
    assert len(status.parties_on(date(2026, 5, 10))) == 40


def test_entry_into_force_known_before_it_happens(uncc: Instrument) -> None:
    status = instrument_status(uncc, forty_deposits(), on=date(2026, 3, 1), is_reio=REIO)
    assert status.entry_into_force == date(2026, 5, 10)
    assert status.parties_on() == []


def test_the_european_unions_instrument_is_not_counted(uncc: Instrument) -> None:
    actions = [*forty_deposits()[:39], deposit("EU", date(2026, 3, 1), ActionKind.APPROVAL)]
    status = instrument_status(uncc, actions, on=date(2027, 1, 1), is_reio=REIO)
    assert status.counted_instruments == 39
    assert status.entry_into_force is None
    # With one more State it enters into force, and the EU is bound with the rest.
    actions.append(deposit(CODES[40], date(2026, 4, 1)))
    status = instrument_status(uncc, actions, on=date(2027, 1, 1), is_reio=REIO)
    assert status.entry_into_force == date(2026, 6, 30)
    assert status.bound_since("EU") == date(2026, 6, 30)


def test_a_second_deposit_by_the_same_state_is_not_counted_again(uncc: Instrument) -> None:
    actions = [*forty_deposits()[:39], deposit(CODES[0], date(2026, 4, 1), ActionKind.ACCEPTANCE)]
    status = instrument_status(uncc, actions, on=date(2027, 1, 1), is_reio=REIO)
    assert status.counted_instruments == 39
    assert status.entry_into_force is None


def test_signature_alone_never_binds(uncc: Instrument) -> None:
    actions = [*forty_deposits(), deposit("VN", date(2025, 10, 25), ActionKind.SIGNATURE)]
    status = instrument_status(uncc, actions, on=date(2030, 1, 1), is_reio=REIO)
    assert status.bound_since("VN") is None
    assert "VN" not in {m.participant for m in status.memberships}


def test_a_state_joining_before_entry_into_force_is_bound_from_that_date(uncc: Instrument) -> None:
    actions = forty_deposits()
    status = instrument_status(uncc, actions, on=date(2027, 1, 1), is_reio=REIO)
    assert status.bound_since(CODES[0]) == date(2026, 5, 10)


def test_a_state_joining_after_the_40th_is_bound_30_days_after_its_deposit(
    uncc: Instrument,
) -> None:
    # Deposit after the 40th but early: 30 days later falls before entry into force,
    # so the later date (entry into force) applies — Art. 65(2) "whichever is later".
    early = deposit("VN", date(2026, 2, 20))
    late = deposit("FR", date(2026, 9, 1))
    status = instrument_status(
        uncc, [*forty_deposits(), early, late], on=date(2027, 1, 1), is_reio=REIO
    )
    assert status.bound_since("VN") == date(2026, 5, 10)
    assert status.bound_since("FR") == date(2026, 10, 1)
    assert status.bound_since("FR", date(2026, 9, 30)) is None


def test_denunciation_takes_effect_after_the_period_and_unbinds(uncc: Instrument) -> None:
    actions = [
        *forty_deposits(),
        TreatyAction("BA", "uncc", ActionKind.DENUNCIATION, date(2027, 3, 15)),
    ]
    status = instrument_status(uncc, actions, on=date(2028, 12, 31), is_reio=REIO)
    membership = next(m for m in status.memberships if m.participant == "BA")
    assert membership.until == date(2028, 3, 15)  # one year, per rule data (to confirm)
    assert status.bound_since("BA", date(2028, 3, 14)) == date(2026, 5, 10)
    assert status.bound_since("BA", date(2028, 3, 15)) is None
    # Entry into force, once reached, is not undone by a later denunciation.
    assert status.entry_into_force == date(2026, 5, 10)


def test_a_denounced_state_can_accede_again(uncc: Instrument) -> None:
    actions = [
        *forty_deposits(),
        TreatyAction("BA", "uncc", ActionKind.DENUNCIATION, date(2027, 3, 15)),
        TreatyAction("BA", "uncc", ActionKind.ACCESSION, date(2029, 1, 10)),
    ]
    status = instrument_status(uncc, actions, on=date(2030, 1, 1), is_reio=REIO)
    assert status.bound_since("BA") == date(2029, 2, 9)
    assert status.counted_instruments == 40  # the re-accession is not a new counted instrument


def test_actions_after_the_query_date_are_ignored(uncc: Instrument) -> None:
    status = instrument_status(uncc, forty_deposits(), on=date(2026, 1, 31), is_reio=REIO)
    assert status.counted_instruments == 31
    assert status.entry_into_force is None


def test_between_when_one_side_is_not_yet_bound(uncc: Instrument) -> None:
    late = deposit("FR", date(2026, 9, 1))
    actions = [*forty_deposits(), late]
    a, b = CODES[0], "FR"
    assert in_force_between(uncc, actions, a, b, on=date(2026, 9, 15), is_reio=REIO) is None
    assert in_force_between(uncc, actions, a, b, on=date(2026, 10, 1), is_reio=REIO) == date(
        2026, 10, 1
    )
    assert in_force_between(uncc, actions, a, "VN", on=date(2030, 1, 1), is_reio=REIO) is None


def test_legal_bases_lists_every_instrument_in_force(
    uncc: Instrument, budapest: Instrument
) -> None:
    actions = [
        *forty_deposits(),
        TreatyAction(CODES[0], "budapest", ActionKind.RATIFICATION, date(2006, 1, 10)),
        TreatyAction(CODES[1], "budapest", ActionKind.ACCESSION, date(2020, 5, 20)),
    ]
    bases = legal_bases(
        [uncc, budapest], actions, CODES[0], CODES[1], on=date(2026, 6, 1), is_reio=REIO
    )
    assert [(b.instrument, b.in_force_since) for b in bases] == [
        ("uncc", date(2026, 5, 10)),
        ("budapest", date(2020, 9, 1)),
    ]
    assert (
        legal_bases(
            [uncc, budapest], actions, CODES[0], CODES[1], on=date(2026, 5, 9), is_reio=REIO
        )[0].instrument
        == "budapest"
    )


def test_budapest_later_party_bound_first_day_of_month_after_three_months(
    budapest: Instrument,
) -> None:
    actions = [TreatyAction("FR", "budapest", ActionKind.RATIFICATION, date(2006, 1, 10))]
    status = instrument_status(budapest, actions, on=date(2010, 1, 1), is_reio=REIO)
    assert status.entry_into_force == date(2004, 7, 1)
    assert status.bound_since("FR") == date(2006, 5, 1)


@pytest.mark.parametrize(
    ("period", "start", "expected"),
    [
        (Period(days=90), date(2026, 2, 9), date(2026, 5, 10)),
        (Period(months=3, first_of_following_month=True), date(2004, 3, 18), date(2004, 7, 1)),
        (Period(months=3, first_of_following_month=True), date(2025, 10, 31), date(2026, 2, 1)),
        (Period(months=12), date(2028, 2, 29), date(2029, 2, 28)),
        (Period(months=3, first_of_following_month=True), date(2025, 9, 30), date(2026, 1, 1)),
    ],
)
def test_periods_are_computed_as_treaties_state_them(
    period: Period, start: date, expected: date
) -> None:
    assert period.after(start) == expected


def test_packaged_snapshot_binds_nobody(uncc: Instrument) -> None:
    """On the real record no ratification is known: the Convention is not in force."""
    from importlib import resources

    from hanoi247.domain.depositary import parse_status_csv
    from hanoi247.domain.states import load_states

    states = load_states()
    text = resources.files("hanoi247.data").joinpath("treaty_status.csv").read_text("utf-8")
    snapshot = parse_status_csv(
        text, source="treaty_status.csv", participants=set(states), instruments={"uncc", "budapest"}
    )
    status = instrument_status(
        uncc,
        snapshot.actions,
        on=date(2026, 11, 29),
        is_reio={k: s.is_reio for k, s in states.items()},
    )
    assert status.counted_instruments == 0
    assert status.entry_into_force is None
    assert status.parties_on() == []
