"""``/statistics`` (issue 11): the node's figures for supervisors, central authorities and
auditors, charts as inline SVG beside tables, no request identifier or text; the CSV,
JSON and PDF downloads of the same period; Arabic mirrored; officers get 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from web_desk import Desk, english_left, make_desk, ui_msgids

from hanoi247.domain.accounts import Role
from hanoi247.domain.drills import Drill, DrillDirection
from hanoi247.entrypoints.demo_history import HistoryFact, Peer, seed_history

LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
STATS = ("templates/statistics.html", "../statistics_report.py")


def DRILLS(now: datetime) -> list[Drill]:
    """Drills answered by a person: two to FR acknowledged after 5 and 9 minutes, one from
    DZ nobody answered."""
    sent = now - timedelta(days=3)
    drills = []
    for n, (direction, state, minutes) in enumerate(
        [("outgoing", "FR", 5), ("outgoing", "FR", 9), ("incoming", "DZ", None)]
    ):
        at = sent + timedelta(hours=n)
        drill = Drill(f"0193a000-0000-7000-8000-00000000000{n}", DrillDirection(direction),
                      f"{state.lower()}-247", state, at, at + timedelta(minutes=30))  # fmt: skip
        if minutes is None:
            drills.append(drill.missed(drill.due_at))
        else:
            drills.append(drill.acknowledged(by="Marie", at=at + timedelta(minutes=minutes)))
    return drills


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desk, list[HistoryFact]]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        desk = make_desk(tmp_path_factory.mktemp("stats"))
        with desk.node.runtime.uow_factory() as uow:
            facts = seed_history(
                uow,
                own=Peer("VN", "vn-a05"),
                peers=[Peer("FR", "fr-oclctic"), Peer("DZ", "dz-247")],
                now=desk.clock.now() - timedelta(days=1),
                count=150,
            )
            for drill in DRILLS(desk.clock.now()):
                assert uow.drills.add(drill)
            uow.commit()
        yield desk, facts
        desk.node.close()


def _client(desk: Desk, role: Role, name: str):  # type: ignore[no-untyped-def]
    client = desk.client()
    user = desk.add_user(name, role)
    assert desk.sign_in(client, user).status_code == 303
    return client


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CENTRAL_AUTHORITY, Role.AUDITOR])
def test_the_statistics_page_shows_charts_and_tables_and_no_case_content(
    seeded: tuple[Desk, list[HistoryFact]], role: Role
) -> None:
    desk, facts = seeded
    client = _client(desk, role, f"stats-{role.value.replace('_', '-')}")
    page = client.get("/statistics")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') >= 4
    assert 'role="img"' in html
    assert "<script" not in html.split("</header>", 1)[1].split("<footer", 1)[0]
    received = sum(1 for f in facts if f.direction == "received")
    totals = re.search(r'data-testid="statistics-totals".*?<td>([\d,]+)</td>', html, re.S)
    assert totals is not None
    assert int(totals.group(1).replace(",", "")) == received
    words = {w for f in facts for w in f.words}
    assert [w for w in words if w in html] == []
    assert 'href="/statistics"' in html  # in the menu
    assert english_left(html, ui_msgids(*STATS))  # the check sees the English page


def test_the_statistics_page_in_arabic_is_mirrored_and_translated(
    seeded: tuple[Desk, list[HistoryFact]],
) -> None:
    desk, _ = seeded
    client = _client(desk, Role.SUPERVISOR, "stats-ar")
    html = client.get("/statistics", headers={"accept-language": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in html
    assert 'direction="rtl"' in html  # the charts mirror
    assert english_left(html, ui_msgids(*LAYOUT, *STATS), "ar") == []


def test_the_downloads_hold_the_same_period_as_csv_json_and_pdf(
    seeded: tuple[Desk, list[HistoryFact]],
) -> None:
    desk, facts = seeded
    client = _client(desk, Role.SUPERVISOR, "stats-files")
    today = desk.clock.now().date()
    query = f"from={(today - timedelta(days=400)).isoformat()}&to={today.isoformat()}"
    csv_file = client.get(f"/statistics.csv?{query}")
    json_file = client.get(f"/statistics.json?{query}")
    pdf = client.get(f"/statistics.pdf?{query}&lang=ar")
    assert csv_file.headers["content-disposition"].startswith("attachment; filename=")
    assert f"requests,received,total,{sum(f.direction == 'received' for f in facts)}" in (
        csv_file.text
    )
    assert json_file.json()["sent"]["total"] == sum(f.direction == "sent" for f in facts)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/statistics.pdf?{query}&lang=xx").status_code == 400
    assert client.get("/statistics?from=yesterday").status_code == 400


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMINISTRATOR])
def test_roles_without_statistics_read_get_403_and_no_menu_entry(
    seeded: tuple[Desk, list[HistoryFact]], role: Role
) -> None:
    desk, _ = seeded
    client = _client(desk, role, f"nostats-{role.value.replace('_', '-')}")
    assert client.get("/statistics").status_code == 403
    assert client.get("/statistics.csv").status_code == 403
    assert 'href="/statistics"' not in client.get("/directory").text


def test_the_drill_sections_count_drills_answered_by_people_per_counterpart(
    seeded: tuple[Desk, list[HistoryFact]],
) -> None:
    desk, _ = seeded
    client = _client(desk, Role.SUPERVISOR, "stats-drills")
    html = client.get("/statistics").text
    sent = html.split('data-testid="statistics-drills-sent"', 1)[1].split("</section>", 1)[0]
    received = html.split('data-testid="statistics-drills-received"', 1)[1].split("</section>")[0]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", sent)
    assert cells[6:12] == ["FR", "2", "2", "0", "5 min", "9 min"]  # median, 90th percentile
    assert re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", received)[6:10] == ["DZ", "1", "0", "1"]
    drills = client.get("/statistics.json").json()["drills"]
    assert drills["sent"]["acknowledged"] == 2
    assert drills["sent"]["time_to_acknowledge"]["median_seconds"] == 300
    assert drills["received"]["by_counterpart"]["DZ"]["missed"] == 1
    assert "drill.ping" not in html
