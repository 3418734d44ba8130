"""Port of the statistics queries (issue 11): SQL aggregates over the node's own records,
handed to the pure ``domain.statistics`` as counts and summaries — never rows of
requests, so 100,000 cases cost one pass of the database, not of Python."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hanoi247.domain.statistics import DrillFigures, Durations, Measure, Outcome, Period


class StatisticsRepository(Protocol):
    """Every method counts the requests received (incoming, by ``received_at``) or sent
    (outgoing, by ``sent_at``) in ``period``; keys ``"received"`` and ``"sent"``."""

    def request_counts(self, period: Period) -> list[tuple[str, str, str, str, int]]:
        """(direction, kind, counterpart State, urgency, requests) for every combination
        that occurs."""
        ...

    def durations(self, period: Period) -> Mapping[str, Mapping[Measure, Durations]]:
        """Per direction and measure, the whole seconds from receipt to ``measure``:
        how many requests reached it, the median and the 90th percentile (nearest rank,
        ``domain.statistics.nearest_rank``, on every engine)."""
        ...

    def outcomes(self, period: Period) -> Mapping[str, Mapping[Outcome, int]]:
        """Per direction, requests by their last outcome on the timeline."""
        ...

    def refusal_grounds(self, period: Period) -> Mapping[str, Mapping[str, int]]:
        """Per direction, refused requests by each ground code cited (one refusal may
        cite several)."""
        ...

    def preservations_expired(self, period: Period) -> Mapping[str, int]:
        """Per direction, preservations whose expiry passed in ``period`` with no
        follow-up request linked (the expiry deadline missed)."""
        ...

    def drills(
        self, period: Period
    ) -> tuple[Mapping[str, DrillFigures], Mapping[str, Mapping[str, DrillFigures]]]:
        """The drill records (answered by a person) sent in ``period``: per direction
        ("sent": ours to peers, "received": peers' to us), and per direction and
        counterpart State; time to acknowledge in whole seconds, nearest rank."""
        ...
