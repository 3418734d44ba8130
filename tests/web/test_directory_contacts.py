"""The directory's contact points on ``/directory`` (English and Arabic) and in
``GET /api/v1/directory``: a stale entry is flagged in words and with a symbol, a fresh one
is not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from web_desk import Desk, make_desk

from federation_helpers import make_node, pin
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.entrypoints import i18n
from hanoi247.services import accounts

STALE_EN = "STALE: verified over 180 days ago"
STALE_MSGID = (
    "STALE: verified over {count} day ago — check it with the State before relying on it",
    "STALE: verified over {count} days ago — check it with the State before relying on it",
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desk, TestClient]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        root = tmp_path_factory.mktemp("directory")
        made = make_desk(root)
        fr = make_node(root / "fr", node_id="fr-oclctic", state="FR", clock=made.clock)
        pin(made.node, fr)
        fr.close()
        today = made.clock.now().date()
        fresh = ContactPoint(
            state="FR",
            kind=ContactKind.POINT_OF_CONTACT_24_7,
            agency="Fictional FR desk",
            phones=("+00 1 5550 0100",),
            emails=("duty@fr.example.net",),
            languages=("fr", "en"),
            channels=("hanoi247", "phone"),
            requires_dual_criminality=False,
            node_id="fr-oclctic",
            last_verified=today - timedelta(days=10),
            verified_by="admin",
        )
        old = ContactPoint(
            state="DZ",
            kind=ContactKind.CENTRAL_AUTHORITY,
            agency="Fictional DZ ministry",
            languages=("ar", "fr"),
            channels=("email",),
            emails=("mla@dz.example.net",),
            requires_dual_criminality=True,
            last_verified=today - timedelta(days=400),
            verified_by="admin",
        )
        with made.node.runtime.uow_factory() as uow:
            uow.contact_points.upsert(fresh, at=made.clock.now())
            uow.contact_points.upsert(old, at=made.clock.now())
            uow.commit()
        lan = made.add_user("lan", Role.SUPERVISOR)
        client = made.client()
        assert made.sign_in(client, lan).status_code == 303
    yield made, client
    made.node.close()


def page(client: TestClient, lang: str) -> str:
    answer = client.get("/directory", headers={"accept-language": lang, "accept": "text/html"})
    assert answer.status_code == 200
    return answer.text


def sections(html: str) -> dict[str, str]:
    """The HTML of each State's section, by ISO code."""
    found: dict[str, str] = {}
    parts = html.split('<section class="card state-entry"')[1:]
    for part in parts:
        code = part.split('id="state-', 1)[1][:2]
        found[code] = part
    return found


def test_the_page_flags_the_stale_entry_and_not_the_fresh_one_in_english(
    desk: tuple[Desk, TestClient],
) -> None:
    by_state = sections(page(desk[1], "en"))

    algeria, france = by_state["DZ"], by_state["FR"]
    assert "Central authority" in algeria
    assert "Fictional DZ ministry" in algeria
    assert STALE_EN in algeria
    assert '<span aria-hidden="true">⚠ </span>STALE' in algeria  # a word and a symbol
    assert "Arabic, French" in algeria
    assert "Yes" in algeria
    assert "24/7 point of contact" in france
    assert "Fictional FR desk" in france
    assert "French, English" in france
    assert "+00 1 5550 0100" in france
    assert "duty@fr.example.net" in france
    assert "fr-oclctic" in france
    assert "Europe/Paris" in france
    assert "STALE" not in france
    assert "On call at this node now" in by_state["VN"]
    assert "No contact point recorded for this State." in by_state["VN"]


def test_the_page_flags_the_stale_entry_in_arabic(desk: tuple[Desk, TestClient]) -> None:
    html = page(desk[1], "ar")
    by_state = sections(html)
    tr = i18n.translator("ar")
    stale = tr.ngettext(*STALE_MSGID, 180).replace("{count}", i18n.format_number(180, "ar"))

    assert '<html lang="ar" dir="rtl">' in html
    assert i18n.state_name("DZ", "ar") in by_state["DZ"]
    assert stale in by_state["DZ"]
    assert stale not in by_state["FR"]
    assert tr.gettext("Central authority") in by_state["DZ"]
    assert "STALE" not in html  # translated, not left in English


def test_the_api_lists_the_contact_points(desk: tuple[Desk, TestClient]) -> None:
    made, _ = desk
    token = accounts.issue_token(
        made.node.runtime.uow_factory(),
        Authenticator(FAST),
        username="lan",
        label="test",
        now=made.clock.now(),
        actor="test",
    )
    answer = made.client().get("/api/v1/directory", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    document = answer.json()

    assert {"node", "on_call", "peers", "contact_points"} <= set(document)
    points = {(p["state"], p["kind"]): p for p in document["contact_points"]}
    assert set(points) == {("DZ", "central_authority"), ("FR", "point_of_contact_24_7")}
    dz, fr = points["DZ", "central_authority"], points["FR", "point_of_contact_24_7"]
    assert (dz["stale"], dz["requires_dual_criminality"], dz["article"]) == (True, True, "Art. 40")
    assert (fr["stale"], fr["requires_dual_criminality"], fr["node_id"]) == (
        False,
        False,
        "fr-oclctic",
    )
    assert fr["languages"] == ["fr", "en"]
    assert fr["article_confirmed"] is False
    assert fr["time_zones"][0]["zone"] == "Europe/Paris"
