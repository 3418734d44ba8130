"""The shell of the web desk: every page in the 7 languages with no English left over,
Arabic right to left, the hypothetical banner, the directory, the treaty page, the
administration page (TOTP secret shown once, dead-letter retry) and the error pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_desk import Desk, csrf_of, english_left, make_desk, ui_msgids

from federation_helpers import make_node, pin, pin_each_other
from hanoi247.domain.accounts import OnCallShift, Position, Role
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.treaty import LegalBasis
from hanoi247.entrypoints import i18n
from hanoi247.services.treaty import between_report
from workflow_harness import uncc_in_force

LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
HYPOTHETICAL = "HYPOTHETICAL treaty status — demonstration only, not the depositary record"
# page → (path, who looks at it, where its UI strings are)
PAGES: dict[str, tuple[str, str | None, *tuple[str, ...]]] = {
    "inbox": ("/inbox", "lan", "templates/inbox.html", "templates/_inbox_list.html"),
    "directory": (
        "/directory",
        "lan",
        "templates/directory.html",
        "templates/_directory_contacts.html",
    ),
    "treaty": ("/treaty", "lan", "templates/treaty.html"),
    "admin": ("/admin", "admin", "templates/admin.html"),
    "login": ("/login", None, "templates/login.html", "pages/signin.py"),
    "403": ("/admin", "lan", "templates/error.html", "pages/errors.py"),
    "404": ("/no-such-page", "lan", "templates/error.html", "pages/errors.py"),
}


@dataclass
class Shell:
    desk: Desk
    clients: dict[str | None, TestClient]


def populate(tmp_path: Path) -> Shell:
    """Node VN pinned with FR at T0 (stale by now) and DE 200 days later; a supervisor on
    duty, an administrator, an incoming emergency request and a dead letter."""
    desk = make_desk(tmp_path)
    fr = make_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=desk.clock)
    pin_each_other(desk.node, fr)
    desk.clock.advance(timedelta(days=200))
    de = make_node(tmp_path / "de", node_id="de-bka", state="DE", clock=desk.clock)
    pin(desk.node, de)
    now = desk.clock.now()
    lan = desk.add_user("lan", Role.SUPERVISOR)
    admin = desk.add_user("admin", Role.ADMINISTRATOR)
    request, _ = CooperationRequest.arrived(
        request_id="019ad7a0-5c00-7abc-8def-0123456789ab",
        reference="FR-2026-000042",
        origin_node="fr-oclctic",
        requesting_state="FR",
        requested_state="VN",
        instrument="uncc",
        kind="preservation",
        urgency=Urgency.EMERGENCY,
        elements={"summary_of_facts": "…"},
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 4, 5)),
        links=Links(),
        phone_contacts=(),
        sent_by="fr-7",
        sent_at=now - timedelta(minutes=5),
        message_id="019ad7a0-5c00-7abc-8def-0000000000aa",
        received_by="vn-a05",
        received_at=now - timedelta(minutes=4),
        acknowledge_by=now + timedelta(minutes=11),
    )
    with desk.node.runtime.uow_factory() as uow:
        uow.requests.add(request)
        uow.on_call.add(
            OnCallShift(
                lan.user.id, Position.PRIMARY, now - timedelta(hours=1), now + timedelta(days=1)
            )
        )
        entry = uow.outbox.enqueue(
            OutgoingMessage(to_node="fr-oclctic", type=MessageType.DRILL_PING, body={}),
            message_id="019ad7a0-5c00-7abc-8def-0000000000bb",
            at=now,
        )
        uow.outbox.mark_dead(entry.id, at=now, error="peer_unreachable")
        uow.commit()
    fr.close()
    de.close()
    clients: dict[str | None, TestClient] = {None: desk.client()}
    for name, user in (("lan", lan), ("admin", admin)):
        clients[name] = desk.client()
        assert desk.sign_in(clients[name], user).status_code == 303
    return Shell(desk, clients)


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        made = populate(tmp_path_factory.mktemp("shell"))
    yield made
    made.desk.node.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Shell]:
    """A populated node of its own, for tests that change it."""
    made = populate(tmp_path)
    yield made
    made.desk.node.close()


def get(shell: Shell, who: str | None, path: str, lang: str = "en") -> str:
    answer = shell.clients[who].get(path, headers={"accept-language": lang, "accept": "text/html"})
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_each_page_renders_in_every_language_with_no_english_left(
    shell: Shell, page: str, lang: str
) -> None:
    path, who, *sources = PAGES[page]
    msgids = ui_msgids(*LAYOUT, *sources)

    html = get(shell, who, path, lang)

    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in html
    left = english_left(html, msgids, lang)
    if lang == "en":
        assert left, "the check finds the English UI strings of the page"
    else:
        assert left == [], f"untranslated on the {lang} {page} page: {left}"


def test_the_status_of_each_page_is_right(shell: Shell) -> None:
    statuses = {
        name: shell.clients[who].get(path, headers={"accept": "text/html"}).status_code
        for name, (path, who, *_) in PAGES.items()
    }

    assert statuses == {
        "inbox": 200, "directory": 200, "treaty": 200, "admin": 200, "login": 200,
        "403": 403, "404": 404,
    }  # fmt: skip


def test_arabic_pages_run_right_to_left_with_arabic_text(shell: Shell) -> None:
    html = get(shell, "lan", "/directory", "ar")

    assert '<html lang="ar" dir="rtl">' in html
    assert i18n.state_name("VN", "ar") in html
    assert i18n.translator("ar").gettext("Directory") in html


def test_the_header_shows_node_user_role_on_duty_and_menu_by_permission(shell: Shell) -> None:
    officer = get(shell, "lan", "/treaty")
    admin = get(shell, "admin", "/treaty")

    assert "Viet Nam" in officer
    assert "Test VN" in officer
    assert "Nguyễn Lan" in officer
    assert "(Supervisor)" in officer
    assert "On duty:" in officer
    assert 'href="/inbox"' in officer
    assert 'href="/admin"' not in officer
    assert 'href="/compose"' in officer  # pages/compose.py serves it
    assert 'href="/compose"' not in admin
    assert 'href="/admin"' in admin
    assert 'href="/inbox"' not in admin


def test_the_root_leads_to_the_inbox_or_for_administrators_the_directory(shell: Shell) -> None:
    assert shell.clients["lan"].get("/").headers["location"] == "/inbox"
    assert shell.clients["admin"].get("/").headers["location"] == "/directory"


def test_the_inbox_lists_incoming_requests(shell: Shell) -> None:
    html = get(shell, "lan", "/inbox")

    assert "FR-2026-000042" in html
    assert "Emergency" in html
    assert "France" in html
    assert "Not yet acknowledged" in html


def test_the_directory_shows_local_times_and_flags_a_stale_verification(shell: Shell) -> None:
    html = get(shell, "lan", "/directory")
    france = html[html.index('id="state-FR"') : html.index('id="state-DE"')]
    germany = html[html.index('id="state-DE"') :]

    assert "Europe/Paris" in france
    assert "GMT+02:00" in france  # 18 Sept 2026: summer time in Paris
    assert "https://fr-oclctic.test" in france
    assert "Stale: over 180 days old" in france
    assert "Stale" not in germany
    assert "Europe/Berlin" in germany


def test_the_hypothetical_banner_shows_only_for_a_hypothetical_import(fresh: Shell) -> None:
    desk = fresh.desk
    assert HYPOTHETICAL not in get(fresh, "lan", "/directory")

    with desk.node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            uncc_in_force("VN", "FR"),
            source="demo-status.csv",
            as_of=date(2026, 1, 5),
            imported_by="test",
            at=desk.clock.now(),
            hypothetical=True,
        )
        uow.commit()

    for path in ("/directory", "/treaty", "/inbox"):
        assert HYPOTHETICAL in get(fresh, "lan", path)
    assert HYPOTHETICAL in get(fresh, None, "/login")
    arabic = i18n.translator("ar").gettext(HYPOTHETICAL)
    assert arabic != HYPOTHETICAL
    assert arabic in get(fresh, "lan", "/treaty", "ar")


def test_the_treaty_page_says_which_instruments_bind_us_with_each_state(fresh: Shell) -> None:
    desk = fresh.desk
    actions = uncc_in_force("VN", "FR")
    with desk.node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            actions, source="status.csv", as_of=date(2026, 1, 5), imported_by="t",
            at=desk.clock.now(),
        )  # fmt: skip
        uow.commit()

    html = get(fresh, "lan", "/treaty")
    between = html[html.index('id="between-heading"') :]
    france = between[between.index("France") : between.index("</tr>", between.index("France"))]
    germany = between[between.index("Germany") : between.index("</tr>", between.index("Germany"))]

    catalogue = desk.node.runtime.catalogue
    today = desk.clock.now().date()
    assert between_report(catalogue, "VN", "FR", actions, on=today)["legal_bases"]
    assert "UN Convention against Cybercrime, since Apr 5, 2026" in france
    if between_report(catalogue, "VN", "DE", actions, on=today)["legal_bases"]:
        assert "UN Convention against Cybercrime" in germany
    else:
        assert "None in force" in germany
    assert "status.csv" in html
    assert "Jan 5, 2026" in html  # as of
    assert "40 of the 40 needed" in html
    assert HYPOTHETICAL not in html


def test_administration_needs_user_or_peer_management(shell: Shell) -> None:
    refused = shell.clients["lan"].get("/admin", headers={"accept-language": "fr"})

    assert refused.status_code == 403
    assert i18n.translator("fr").gettext("Not permitted") in refused.text


def test_adding_a_user_shows_an_enrolment_code_once_and_never_a_secret(fresh: Shell) -> None:
    admin = fresh.clients["admin"]
    form = admin.get("/admin").text
    token = csrf_of(form)

    added = admin.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "minh",
            "display_name": "Trần Minh",
            "email": "minh@example.vn",
            "role": "officer",
            "locale": "vi",
            "timezone": "Asia/Ho_Chi_Minh",
        },
    )

    with fresh.desk.node.runtime.uow_factory() as uow:
        user = uow.users.by_username("minh")
        assert user is not None
        credentials = uow.users.credentials(user.id)
        assert credentials is not None
        enrolling = uow.users.enrolling(user.id)
        tags = [e.tag for e in uow.audit.entries()][-3:]
    assert tags == [
        "account:user:added",
        "account:enrolment:issued",
        "account:content_role:announced",
    ]
    assert (credentials.password_hash, credentials.totp_secret) == (None, None)
    assert enrolling
    assert 'name="password"' not in form  # the administrator chooses no password
    assert added.status_code == 200
    code = re.search(r'class="secret">([A-Z2-7-]{39})</code>', added.text)
    assert code is not None
    assert "otpauth://" not in added.text
    assert "http://testserver/enrol" in added.text
    later = admin.get("/admin").text
    assert "Trần Minh" in later
    assert code.group(1) not in later


def test_a_refused_new_user_lists_the_problems_in_the_viewers_language(fresh: Shell) -> None:
    admin = fresh.clients["admin"]
    token = csrf_of(admin.get("/admin").text)

    refused = admin.post(
        "/admin/users",
        headers={"accept-language": "fr"},
        data={"csrf_token": token, "username": "lan", "display_name": "X", "role": "officer",
              "email": "x@example.vn", "locale": "fr", "timezone": "Nowhere/Atlantis"},
    )  # fmt: skip

    assert refused.status_code == 422
    tr = i18n.translator("fr")
    assert tr.pgettext("element", "Time zone") in refused.text
    assert tr.pgettext("element", "User name") in refused.text


def test_retrying_a_dead_letter_needs_the_csrf_token_and_is_audited(fresh: Shell) -> None:
    admin = fresh.clients["admin"]
    page = admin.get("/admin").text
    with fresh.desk.node.runtime.uow_factory() as uow:
        (dead,) = uow.outbox.list(status=OutboxStatus.DEAD)
    assert f'action="/admin/outbox/{dead.id}/retry"' in page

    refused = admin.post(f"/admin/outbox/{dead.id}/retry")
    retried = admin.post(f"/admin/outbox/{dead.id}/retry", data={"csrf_token": csrf_of(page)})

    assert refused.status_code == 403
    assert retried.status_code == 303
    assert "notice=retried" in retried.headers["location"]
    with fresh.desk.node.runtime.uow_factory() as uow:
        entry = uow.outbox.get(dead.id)
        assert entry is not None
        assert entry.status is OutboxStatus.PENDING
        last = uow.audit.entries()[-1]
        admin_user = uow.users.by_username("admin")
    assert admin_user is not None
    assert last.tag == "federation:message:retried"
    assert last.actor == admin_user.id
    officer = fresh.clients["lan"]
    token = csrf_of(officer.get("/directory").text)
    assert (
        officer.post(f"/admin/outbox/{dead.id}/retry", data={"csrf_token": token}).status_code
        == 403
    )


def test_unknown_pages_get_a_translated_404_page_but_the_api_keeps_problem_json(
    shell: Shell,
) -> None:
    page = shell.clients["lan"].get(
        "/no-such-page", headers={"accept": "text/html", "accept-language": "es"}
    )
    api = shell.clients["lan"].get("/api/v1/no-such-thing", headers={"accept": "text/html"})

    assert page.status_code == 404
    assert '<html lang="es" dir="ltr">' in page.text
    assert i18n.translator("es").gettext("Page not found") in page.text
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_a_crash_gets_the_translated_500_page(fresh: Shell) -> None:
    app = fresh.desk.node.app

    @app.get("/crash-for-test")
    def crash() -> None:
        raise RuntimeError("boom")

    client = fresh.desk.client(raise_server_exceptions=False)
    answer = client.get("/crash-for-test", headers={"accept": "text/html", "accept-language": "ru"})

    assert answer.status_code == 500
    assert '<html lang="ru" dir="ltr">' in answer.text
    assert i18n.translator("ru").gettext("Something went wrong") in answer.text
    assert "boom" not in answer.text


def test_pages_carry_the_security_headers(shell: Shell) -> None:
    answer = shell.clients["lan"].get("/directory")

    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
