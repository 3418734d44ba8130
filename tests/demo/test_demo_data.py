"""The demo's data without processes: the hypothetical status, the seeded requests, the
state directory's safety rails."""

from __future__ import annotations

import ipaddress
import re
import stat
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.requests import validate
from hanoi247.domain.states import ParticipantKind
from hanoi247.domain.treaty import ActionKind, in_force_between, instrument_status
from hanoi247.entrypoints.demo import (
    NODES_JSON,
    Login,
    NodeLogins,
    read_nodes_json,
    wipe,
    write_nodes_json,
)
from hanoi247.entrypoints.demo_scenario import (
    DEMO_STATUS,
    demo_status,
    emergency_payload,
    preservation_payload,
)
from hanoi247.services.treaty import TreatyCatalogue

DOCUMENTATION_NETS = [ipaddress.ip_network(n) for n in ("203.0.113.0/24", "198.51.100.0/24")]
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@pytest.fixture(scope="module")
def catalogue() -> TreatyCatalogue:
    return TreatyCatalogue.packaged()


def test_demo_status_file_says_it_is_hypothetical_in_its_first_lines() -> None:
    text = resources.files("hanoi247.data").joinpath(DEMO_STATUS).read_text("utf-8")
    first = text.splitlines()[:3]
    assert first[0] == "# HYPOTHETICAL — demonstration only; NOT the depositary record"
    assert first[1] == "# hypothetical: true"
    assert first[2].startswith("# as_of: ")


def test_demo_status_is_40_made_up_ratifications_by_distinct_un_members(
    catalogue: TreatyCatalogue,
) -> None:
    status = demo_status(catalogue)
    assert status.hypothetical
    ratifications = [a for a in status.actions if a.action is ActionKind.RATIFICATION]
    assert len(ratifications) == 40
    declared = [a for a in status.actions if a.action is not ActionKind.RATIFICATION]
    assert {a.participant for a in declared} == {"VN", "FR", "DZ"}  # made-up declarations
    who = [a.participant for a in ratifications]
    assert len(set(who)) == 40
    assert {"VN", "FR", "DZ"} <= set(who)
    assert all(catalogue.states[c].kind is ParticipantKind.MEMBER for c in who)
    assert all(a.source == "HYPOTHETICAL (demo)" for a in status.actions)
    assert all(date(2026, 1, 1) <= a.on <= date(2026, 4, 30) for a in status.actions)


def test_demo_status_puts_the_convention_in_force_between_the_three_demo_states(
    catalogue: TreatyCatalogue,
) -> None:
    status = demo_status(catalogue)
    uncc = catalogue.instrument("uncc")
    eif = instrument_status(uncc, status.actions, on=date(2026, 12, 31), is_reio=catalogue.is_reio)
    assert eif.counted_instruments == 40
    assert eif.entry_into_force == date(2026, 6, 29)  # 90th day after the 40th deposit
    for a, b in (("VN", "FR"), ("DZ", "FR"), ("VN", "DZ")):
        before = in_force_between(
            uncc, status.actions, a, b, on=date(2026, 6, 28), is_reio=catalogue.is_reio
        )
        after = in_force_between(
            uncc, status.actions, a, b, on=date(2026, 6, 29), is_reio=catalogue.is_reio
        )
        assert (before, after) == (None, date(2026, 6, 29))


def test_packaged_real_snapshot_stays_a_record_where_the_convention_is_not_in_force(
    catalogue: TreatyCatalogue,
) -> None:
    real = catalogue.packaged_status()
    assert not real.hypothetical
    uncc = catalogue.instrument("uncc")
    on = date(2026, 12, 31)
    assert in_force_between(uncc, real.actions, "VN", "FR", on=on, is_reio={}) is None


@pytest.mark.parametrize("build", [preservation_payload, emergency_payload])
@pytest.mark.parametrize("hours_ago", [0, 7, 23])
def test_seeded_requests_validate_without_any_problem(
    catalogue: TreatyCatalogue, build: object, hours_ago: int
) -> None:
    assert callable(build)
    now = datetime.now(UTC) - timedelta(hours=hours_ago)
    payload = build(now)
    problems = validate(
        payload, instrument=catalogue.instrument("uncc"), states=set(catalogue.states), now=now
    )
    assert problems == []


@pytest.mark.parametrize("build", [preservation_payload, emergency_payload])
def test_seeded_requests_name_only_documentation_addresses_and_example_domains(
    build: object,
) -> None:
    assert callable(build)
    text = repr(build(datetime.now(UTC)))
    for found in IPV4.findall(text):
        address = ipaddress.ip_address(found)
        assert any(address in net for net in DOCUMENTATION_NETS), found
    for domain in re.findall(r"\b[\w.-]+\.(?:net|com|org|fr|vn|dz)\b", text):
        assert domain.endswith("example.net"), domain


def test_preservation_is_vn_to_fr_about_a_hospital_in_hanoi_and_servers_in_france() -> None:
    payload = preservation_payload(datetime.now(UTC))
    assert (payload["kind"], payload["to"], payload["urgency"]) == ("preservation", "FR", "urgent")
    assert "hospital in Hanoi" in str(payload["summary_of_facts"])
    assert "France" in str(payload["custodian_or_location"])


def test_nodes_json_is_written_owner_only_and_reads_back(tmp_path: Path) -> None:
    login = Login("vn.officer", "a-long-password", "JBSWY3DPEHPK3PXP")
    entry = NodeLogins("VN", "http://127.0.0.1:1", "h247_" + "a" * 43, login, login, login)
    path = tmp_path / NODES_JSON
    write_nodes_json(path, [entry])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_nodes_json(path) == [entry]


def test_fresh_refuses_to_wipe_a_directory_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(InvalidInput, match="does not look like a demo"):
        wipe(tmp_path)
    assert (tmp_path / "thesis.tex").exists()


def test_fresh_wipes_a_previous_demo(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    (root / "vn-demo").mkdir(parents=True)
    (root / NODES_JSON).write_text("[]")
    wipe(root)
    assert not root.exists()
