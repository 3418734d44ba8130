"""The case page of an incoming request shows what this node re-checked (docs/protocol.md
§10): a legal basis its own treaty status does not recognise, as a warning, and an officer
cannot confirm preservation on it while a supervisor can."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair

from hanoi247.domain.accounts import Role
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.entrypoints import i18n
from workflow_harness import CATALOGUE


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    # FR's own status: the UN Convention binds 40 States, Viet Nam not among them.
    members = [s for s, st in CATALOGUE.states.items() if not st.is_reio and s != "VN"]
    chosen = ["FR", *[s for s in members if s != "FR"][:39]]
    actions = [TreatyAction(s, "uncc", ActionKind.RATIFICATION, date(2025, 11, 3)) for s in chosen]
    with made.fr.node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            actions, source="fr-view.csv", as_of=date(2025, 11, 3), imported_by="test",
            at=made.clock.now(), hypothetical=True,
        )  # fmt: skip
        uow.commit()
    yield made
    made.vn.node.close()
    made.fr.node.close()


def test_an_unrecognised_basis_is_a_warning_and_an_officer_cannot_confirm_on_it(
    pair: Pair,
) -> None:
    draft = pair.send_complete()
    page = pair.fr_client.get(f"/requests/{draft}", headers={"accept-language": "fr"}).text
    assert 'data-testid="basis-warning"' in page
    assert 'data-code="basis_not_in_force"' in page
    tr = i18n.translator("fr")
    assert html.unescape(page).count(i18n.label_error_code("basis_not_recognised", tr)) >= 1
    assert "Seul un superviseur peut confirmer la conservation" in html.unescape(page)

    until = (pair.clock.now().date() + timedelta(days=90)).isoformat()
    refused = pair.act(pair.fr_client, draft, "confirm_preservation", until=until)
    assert refused.status_code == 409
    assert '<p data-code="basis_not_recognised">' in refused.text
    with pair.fr.node.runtime.uow_factory() as uow:
        request = uow.requests.get(draft)
    assert request is not None
    assert request.status.value == "received"


def test_a_supervisor_confirms_preservation_on_an_unrecognised_basis(pair: Pair) -> None:
    draft = pair.send_complete()
    boss = pair.fr.add_user("marc", Role.SUPERVISOR)
    client = pair.fr.client()
    assert pair.fr.sign_in(client, boss).status_code == 303
    until = (pair.clock.now().date() + timedelta(days=90)).isoformat()
    done = pair.act(client, draft, "confirm_preservation", until=until)
    assert done.status_code == 303, done.text
    with pair.fr.node.runtime.uow_factory() as uow:
        request = uow.requests.get(draft)
    assert request is not None
    assert request.status.value == "preservation_confirmed"
