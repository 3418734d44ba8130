"""Between acknowledgement and confirmed preservation a clock runs, by urgency (practice in
the rule data, not law), so an acknowledged urgent preservation request never stalls with
no next deadline (what a miss does: tests/unit/test_alerts.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_cooperation import CLOCKS, PARIS, T0, UNCC, received

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.deadlines import load_clocks
from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus, deadlines_for
from hanoi247.domain.schedule import resolution as resolution_of

KEY = "preservation_confirmation"
ACKNOWLEDGED_AT = T0 + timedelta(minutes=5)


def acknowledged(urgency: Urgency = Urgency.URGENT) -> CooperationRequest:
    request = received("preservation")
    request.urgency = urgency
    request.acknowledge(origin="FR", by="fr-7", at=ACKNOWLEDGED_AT, message_id=None)
    return request


@pytest.mark.parametrize(
    ("urgency", "minutes"),
    [(Urgency.EMERGENCY, 60), (Urgency.URGENT, 240), (Urgency.ROUTINE, 4320)],
)
def test_an_acknowledged_preservation_must_be_confirmed_on_the_clock_of_its_urgency(
    urgency: Urgency, minutes: int
) -> None:
    request = acknowledged(urgency)
    specs = {s.key: s for s in deadlines_for(request, CLOCKS, PARIS)}
    assert specs[KEY].kind is DeadlineKind.PRESERVATION_CONFIRMATION
    assert specs[KEY].due_at == ACKNOWLEDGED_AT + timedelta(minutes=minutes)


def test_the_clock_is_practice_in_the_rule_data_of_both_instruments_and_configurable() -> None:
    for instrument in (UNCC, load_instrument("budapest")):
        clocks = instrument.rules["clocks"]
        assert clocks["legal"] is False  # configuration, not law
        assert clocks["confirm_preservation_urgent_minutes"] == 240
    changed = load_clocks(UNCC, {"confirm_preservation_urgent_minutes": 30})
    request = acknowledged()
    specs = {s.key: s.due_at for s in deadlines_for(request, changed, PARIS)}
    assert specs[KEY] == ACKNOWLEDGED_AT + timedelta(minutes=30)


def test_confirming_meets_the_clock_and_starts_the_preservation_deadlines() -> None:
    request = acknowledged()
    request.confirm_preservation(
        date(2027, 3, 1), origin="FR", by="fr-7", at=T0 + timedelta(hours=1), message_id=None
    )
    keys = {s.key for s in deadlines_for(request, CLOCKS, PARIS)}
    assert KEY not in keys
    assert "preservation_expiry" in keys
    assert resolution_of(request, DeadlineKind.PRESERVATION_CONFIRMATION) is DeadlineStatus.MET


def test_no_such_clock_before_acknowledgement_or_on_other_kinds() -> None:
    assert KEY not in {s.key for s in deadlines_for(received("preservation"), CLOCKS, PARIS)}
    other = received("traffic_data_disclosure")
    other.acknowledge(origin="FR", by="fr-7", at=ACKNOWLEDGED_AT, message_id=None)
    assert KEY not in {s.key for s in deadlines_for(other, CLOCKS, PARIS)}
