"""The directory's contact points: staleness, validation, dual criminality words."""

from __future__ import annotations

from datetime import date

import pytest

from hanoi247.domain.directory import (
    KIND_BASIS,
    ContactKind,
    ContactPoint,
    dual_criminality_word,
    parse_dual_criminality,
)

TODAY = date(2026, 11, 29)


def point(last_verified: date = TODAY, **changes: object) -> ContactPoint:
    fields: dict[str, object] = {
        "state": "FR",
        "kind": ContactKind.POINT_OF_CONTACT_24_7,
        "agency": "Fictional cybercrime office",
        "last_verified": last_verified,
        "verified_by": "admin",
        "languages": ("fr", "en"),
        "channels": ("hanoi247", "phone"),
        "emails": ("duty@fr.example.net",),
    }
    fields.update(changes)
    return ContactPoint(**fields)  # type: ignore[arg-type]


def test_an_entry_is_stale_only_past_180_days() -> None:
    assert not point(date(2026, 6, 2)).is_stale(TODAY)  # 180 days: still fresh
    assert point(date(2026, 6, 1)).is_stale(TODAY)  # 181 days
    assert not point(date(2026, 6, 1)).is_stale(TODAY, max_age_days=365)
    assert point(date(2026, 6, 1)).age_days(TODAY) == 181


def test_verifying_renews_the_entry() -> None:
    old = point(date(2025, 1, 1))
    renewed = old.verified(TODAY, "lan")

    assert old.is_stale(TODAY)
    assert not renewed.is_stale(TODAY)
    assert (renewed.last_verified, renewed.verified_by, renewed.agency) == (
        TODAY,
        "lan",
        old.agency,
    )


def test_articles_follow_the_rule_data_and_stay_unconfirmed() -> None:
    assert KIND_BASIS[ContactKind.POINT_OF_CONTACT_24_7].article == "Art. 41"
    assert KIND_BASIS[ContactKind.CENTRAL_AUTHORITY].article == "Art. 40"
    assert not any(basis.confirmed for basis in KIND_BASIS.values())
    assert point().basis.article == "Art. 41"


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "fr"},
        {"state": "FRA"},
        {"agency": " "},
        {"verified_by": ""},
        {"languages": ("fra",)},
        {"channels": ("Phone Line",)},
        {"emails": ("not-an-address",)},
        {"kind": "embassy"},
    ],
)
def test_an_invalid_entry_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        point(**changes)


def test_dual_criminality_is_yes_no_or_unknown() -> None:
    assert [parse_dual_criminality(v) for v in ("yes", "NO", "unknown")] == [True, False, None]
    assert [dual_criminality_word(v) for v in (True, False, None)] == ["yes", "no", "unknown"]
    with pytest.raises(ValueError):
        parse_dual_criminality("maybe")
