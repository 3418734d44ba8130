"""Signing in to the web desk: password + real TOTP, one failure message, lockout, CSRF,
server-side sessions that expire, rotate and end at sign-out."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from web_desk import PASSWORD, Desk, csrf_of, make_desk

from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints.web.csrf import csrf_cookie_name
from hanoi247.entrypoints.web.sessions import session_cookie_name

PAGES = ["/", "/inbox", "/directory", "/treaty", "/admin"]
SESSION_COOKIE = session_cookie_name("vn-a05")  # the desk's node (web_desk.make_desk)
CSRF_COOKIE = csrf_cookie_name("vn-a05")


def test_sign_in_with_password_and_real_totp_opens_a_server_side_session(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()

    answer = desk.sign_in(client, lan, next_path="/treaty")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/treaty"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= attributes
    assert "secure" not in attributes  # plain http outside production: the demo works
    token = client.cookies[SESSION_COOKIE]
    with desk.node.runtime.uow_factory() as uow:
        assert uow.web_sessions.get(token) is None  # the token itself is never stored
        stored = uow.web_sessions.get(hashlib.sha256(token.encode()).hexdigest())
    assert stored is not None
    assert stored.user_id == lan.user.id
    assert stored.expires_at == desk.clock.now() + timedelta(minutes=30)
    page = client.get("/treaty")
    assert page.status_code == 200
    assert "Nguyễn Lan" in page.text


def test_the_cookie_is_secure_over_https(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client(https=True)

    answer = desk.sign_in(client, lan)

    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "secure" in cookie.lower()
    assert client.get("/directory").status_code == 200


@pytest.mark.parametrize("wrong", ["password", "code", "user"])
def test_a_failed_sign_in_says_only_that_it_failed(desk: Desk, wrong: str) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    code = desk.code(lan)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    if wrong == "user":
        answer = client.post(
            "/login",
            data={
                "username": "nobody",
                "password": PASSWORD,
                "totp": code,
                "csrf_token": csrf_of(client.get("/login").text),
            },
        )
    else:
        answer = desk.sign_in(
            client,
            lan,
            password="not the password" if wrong == "password" else PASSWORD,
            code=code if wrong == "password" else wrong_code,
        )

    assert answer.status_code == 200
    assert "Sign-in failed." in answer.text
    assert "locked" not in answer.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/inbox").status_code == 303


def _failure_text(page: str) -> str:
    start = page.index('role="alert"')
    return page[start : page.index("</div>", start)]


def test_a_locked_account_gets_the_same_answer_as_an_unknown_one(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    for _ in range(5):
        assert "Sign-in failed." in desk.sign_in(client, lan, password="wrong password!").text
    right = desk.sign_in(client, lan)  # the right password and code, but locked
    nobody = client.post(
        "/login",
        data={
            "username": "nobody",
            "password": PASSWORD,
            "totp": "123456",
            "csrf_token": csrf_of(client.get("/login").text),
        },
    )

    assert right.status_code == nobody.status_code == 200
    assert _failure_text(right.text) == _failure_text(nobody.text)
    assert "Sign-in failed." in _failure_text(right.text)
    for leak in ("locked", "GMT", "+07", "until"):
        assert leak not in right.text
    assert SESSION_COOKIE not in client.cookies
    desk.clock.advance(timedelta(minutes=1))  # the lock is short: a stranger can set it
    assert desk.sign_in(client, lan).status_code == 303


def test_a_double_submitted_code_says_wait_and_is_not_a_failure(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    code = desk.code(lan)
    assert desk.sign_in(desk.client(), lan, code=code).status_code == 303
    again = desk.client()
    for _ in range(6):  # more than the lockout threshold
        answer = desk.sign_in(again, lan, code=code)
        assert answer.status_code == 200
        assert "This code was just used; wait for the next one." in answer.text
    with desk.node.runtime.uow_factory() as uow:
        stored = uow.users.by_username("lan")
    assert stored is not None
    assert (stored.failed_logins, stored.locked_until) == (0, None)
    assert desk.sign_in(again, lan).status_code == 303  # the next code works


def _post_login(client: TestClient, username: str) -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": "x" * 12, "totp": "1", "csrf_token": token},
    )


def test_a_client_that_keeps_failing_gets_429_with_retry_after_before_any_hash(
    desk: Desk,
) -> None:
    client = desk.client()
    for i in range(10):
        assert _post_login(client, f"guess{i}").status_code == 200
    with desk.node.runtime.uow_factory() as uow:
        audited = len(uow.audit.entries())

    refused = _post_login(client, "guess10")

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "6"
    assert "Too many sign-in attempts from your address. Wait 6 s." in refused.text
    with desk.node.runtime.uow_factory() as uow:
        assert len(uow.audit.entries()) == audited  # nothing was checked, nothing written
    desk.clock.advance(timedelta(seconds=6))
    assert _post_login(client, "guess11").status_code == 200
    assert _post_login(client, "guess12").status_code == 429


def test_a_throttled_sign_in_waits_out_the_tarpit_before_its_429_and_others_never_wait(
    desk: Desk,
) -> None:
    paused: list[float] = []

    async def pause(seconds: float) -> None:  # stands in for asyncio.sleep
        paused.append(seconds)

    throttles = desk.node.app.state.throttles
    throttles.pause = pause
    client = desk.client()
    for i in range(10):
        assert _post_login(client, f"guess{i}").status_code == 200
    assert paused == []  # attempts within the allowance are answered at once

    refused = _post_login(client, "guess10")

    assert refused.status_code == 429
    assert paused == [throttles.tarpit] == [1.0]  # one answer per second per connection
    assert refused.headers["retry-after"] == "6"


def test_a_burst_of_concurrent_attempts_past_the_allowance_is_refused_in_the_tarpit(
    desk: Desk,
) -> None:
    paused: list[float] = []

    async def pause(seconds: float) -> None:
        paused.append(seconds)

    throttles = desk.node.app.state.throttles
    throttles.pause = pause
    throttles.signin_concurrency = 100  # only the allowance limits this burst
    client = desk.client()
    token = csrf_of(client.get("/login").text)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=desk.node.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=client.cookies
        ) as flood:
            form = {"password": "x" * 12, "totp": "1", "csrf_token": token}
            answers = await asyncio.gather(
                *(flood.post("/login", data={**form, "username": f"g{i}"}) for i in range(40))
            )
        return [answer.status_code for answer in answers]

    codes = asyncio.run(burst())

    assert sorted(codes) == [200] * 10 + [429] * 30
    # Every refusal was answered by the middleware after the tarpit, none on a thread.
    assert paused == [throttles.tarpit] * 30
    assert throttles.signing_in == 0


def test_sign_in_attempts_past_the_concurrency_cap_get_503_without_reaching_the_form(
    desk: Desk,
) -> None:
    paused: list[float] = []

    async def pause(seconds: float) -> None:
        paused.append(seconds)

    throttles = desk.node.app.state.throttles
    throttles.pause = pause
    client = desk.client()
    with desk.node.runtime.uow_factory() as uow:
        audited = len(uow.audit.entries())
    throttles.signing_in = throttles.signin_concurrency  # that many are being checked

    busy = _post_login(client, "guess")

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert "The node is busy. Try again in a few seconds." in busy.text
    assert paused == [throttles.tarpit]
    with desk.node.runtime.uow_factory() as uow:
        assert len(uow.audit.entries()) == audited  # nothing was checked
    throttles.signing_in = 0
    for i in range(10):  # the 503 did not use up the client's allowance
        assert _post_login(client, f"guess{i}").status_code == 200


def test_a_successful_sign_in_does_not_use_up_the_clients_allowance(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    for _ in range(12):  # more sign-ins than the allowance, each a success
        assert desk.sign_in(client, lan).status_code == 303
        client.cookies.clear()


def test_when_every_hashing_slot_is_busy_sign_in_answers_503_with_retry_after(
    desk: Desk,
) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    web = desk.node.app.state.web_desk
    web.authenticator = Authenticator(FAST, max_hashes=1, hash_wait=0)
    client = desk.client()
    with web.authenticator._hash_slot():  # another sign-in is hashing
        busy = desk.sign_in(client, lan)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert "The node is busy. Try again in a few seconds." in busy.text
    assert desk.sign_in(client, lan).status_code == 303


def test_a_post_without_the_csrf_token_gets_the_403_page(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)
    token = csrf_of(client.get("/directory").text)

    missing = client.post("/logout", headers={"accept": "text/html"})
    wrong = client.post("/logout", data={"csrf_token": "x" * 43})
    anonymous = desk.client().post(
        "/login", data={"username": "lan", "password": PASSWORD, "totp": "123456"}
    )

    for refused in (missing, wrong, anonymous):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "This form could not be verified" in refused.text
    assert client.get("/directory").status_code == 200  # still signed in
    by_htmx = client.post("/logout", headers={"X-CSRF-Token": token})
    assert by_htmx.status_code == 303


def test_a_session_ends_after_30_idle_minutes(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)

    desk.clock.advance(timedelta(minutes=29))
    assert client.get("/directory").status_code == 200  # activity moves the limit
    desk.clock.advance(timedelta(minutes=29))
    assert client.get("/directory").status_code == 200
    desk.clock.advance(timedelta(minutes=30))
    expired = client.get("/directory")

    assert expired.status_code == 303
    assert expired.headers["location"] == "/login?next=/directory"
    with desk.node.runtime.uow_factory() as uow:
        token = client.cookies[SESSION_COOKIE]
        assert uow.web_sessions.get(hashlib.sha256(token.encode()).hexdigest()) is None


def test_a_session_ends_12_hours_after_sign_in_even_when_in_use(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)
    signed_in_at = desk.clock.now()

    while desk.clock.now() + timedelta(minutes=20) < signed_in_at + timedelta(hours=12):
        desk.clock.advance(timedelta(minutes=20))
        assert client.get("/treaty").status_code == 200
    desk.clock.advance(timedelta(minutes=20))

    assert client.get("/treaty").status_code == 303


def test_sign_out_ends_the_session_for_good(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)
    token = client.cookies[SESSION_COOKIE]

    out = client.post("/logout", data={"csrf_token": csrf_of(client.get("/directory").text)})

    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    replay = desk.client()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get("/directory").status_code == 303
    with desk.node.runtime.uow_factory() as uow:
        assert [e.tag for e in uow.audit.entries()][-1] == "account:logout"
        assert uow.audit.verify() is None


def test_signing_in_again_rotates_the_session(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)
    first = client.cookies[SESSION_COOKIE]
    first_csrf = csrf_of(client.get("/directory").text)
    stranger = desk.client()  # the sign-in form, as a signed-in browser would have kept it
    form_token = csrf_of(stranger.get("/login").text)
    client.cookies.set(CSRF_COOKIE, stranger.cookies[CSRF_COOKIE])

    again = client.post(
        "/login",
        data={
            "username": "lan",
            "password": PASSWORD,
            "totp": desk.code(lan),
            "csrf_token": form_token,
        },
    )

    assert again.status_code == 303
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    assert csrf_of(client.get("/directory").text) != first_csrf
    old = desk.client()
    old.cookies.set(SESSION_COOKIE, first)
    assert old.get("/directory").status_code == 303


def test_a_disabled_user_is_signed_out_at_the_next_request(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)

    with desk.node.runtime.uow_factory() as uow:
        uow.users.set_active(lan.user.id, False)
        uow.commit()

    assert client.get("/directory").status_code == 303


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_the_sign_in_page(desk: Desk, path: str) -> None:
    answer = desk.client().get(path)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


def test_the_sign_in_page_and_static_files_need_no_session(desk: Desk) -> None:
    client = desk.client()

    assert client.get("/login").status_code == 200
    css = client.get("/static/hanoi247.css")
    htmx = client.get("/static/vendor/htmx.min.js")

    assert css.status_code == 200
    assert "margin-inline-start" in css.text
    assert htmx.status_code == 200
    assert htmx.text.startswith("var htmx=")


@pytest.mark.parametrize(
    ("asked", "landed"),
    [
        ("/treaty?tab=1", "/treaty?tab=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
    ],
)
def test_after_sign_in_next_only_leads_to_this_site(desk: Desk, asked: str, landed: str) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)

    answer = desk.sign_in(desk.client(), lan, next_path=asked)

    assert answer.headers["location"] == landed


def test_the_language_choice_is_kept_in_the_session_and_a_cookie(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, lan)
    token = csrf_of(client.get("/directory").text)

    answer = client.post("/language", data={"lang": "vi", "next": "/treaty", "csrf_token": token})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/treaty"
    assert client.cookies["h247_lang"] == "vi"
    page = client.get("/treaty", headers={"accept-language": "fr"})
    assert '<html lang="vi" dir="ltr">' in page.text
    client.cookies.delete("h247_lang")  # the session remembers it too
    assert '<html lang="vi" dir="ltr">' in client.get("/treaty").text


def test_a_stranger_can_switch_the_language_of_the_sign_in_page(desk: Desk) -> None:
    client: TestClient = desk.client()
    token = csrf_of(client.get("/login", headers={"accept-language": "fr-CA"}).text)

    client.post("/language", data={"lang": "ar", "next": "/login", "csrf_token": token})

    assert '<html lang="ar" dir="rtl">' in client.get("/login").text


def test_two_nodes_on_one_host_keep_separate_session_cookies(desk: Desk, tmp_path: Path) -> None:
    """Cookies are per host, not per port: signing into FR must not sign VN out."""
    france = make_desk(tmp_path / "fr", state="FR", node_id="fr-oclctic")
    try:
        lan = desk.add_user("lan", Role.OFFICER)
        claire = france.add_user("claire", Role.OFFICER)
        vn, fr = desk.client(), france.client()
        assert desk.sign_in(vn, lan).status_code == 303
        assert france.sign_in(fr, claire).status_code == 303
        for name, value in fr.cookies.items():  # one browser holds both nodes' cookies
            vn.cookies.set(name, value)

        assert session_cookie_name("fr-oclctic") != SESSION_COOKIE
        assert vn.get("/inbox").status_code == 200  # still signed in on VN
        assert fr.get("/inbox").status_code == 200
    finally:
        france.node.close()
