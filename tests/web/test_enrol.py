"""``/enrol`` (issue 13): a new user chooses their own password and second factor with a
one-time code; the administrator never sees either. Real node, real TOTP (pyotp)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from web_desk import Desk, csrf_of, english_left, ui_msgids

from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.services import accounts

CHOSEN = "my own long passphrase"
SECRET = re.compile(r'<code dir="ltr" class="secret">([A-Z2-7]+)</code>')
LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
REFUSED = "This enrolment code cannot be used. Check it, or ask your administrator for a new one."


def new_officer(desk: Desk, username: str = "minh") -> str:
    added = accounts.add_user(
        desk.node.runtime.uow_factory(),
        Authenticator(FAST),
        username=username,
        display_name="Trần Minh",
        email=f"{username}@example.vn",
        role=Role.OFFICER,
        now=desk.clock.now(),
        actor="admin",
        enrol_within=timedelta(hours=72),
    )
    assert added.enrolment is not None
    assert added.totp_secret is None
    return added.enrolment.code


def choose_password(client: TestClient, code: str, password: str = CHOSEN) -> httpx.Response:
    token = csrf_of(client.get("/enrol").text)
    return client.post(
        "/enrol",
        data={"code": code, "password": password, "password_again": password, "csrf_token": token},
    )


def confirm(client: TestClient, page: str, code: str, totp: str) -> httpx.Response:
    return client.post(
        "/enrol/confirm", data={"code": code, "totp": totp, "csrf_token": csrf_of(page)}
    )


def sign_in(desk: Desk, username: str, password: str, totp: str) -> httpx.Response:
    client = desk.client()
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "totp": totp, "csrf_token": token},
    )


def test_enrolment_with_a_valid_code_shows_a_qr_code_and_activates_the_account(
    desk: Desk,
) -> None:
    code = new_officer(desk)
    client = desk.client()

    shown = choose_password(client, code)

    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    secret = SECRET.search(shown.text)
    assert secret is not None
    assert '<svg width="' in shown.text  # the QR code, inline: no script, no CDN
    assert "otpauth://totp/" in unescape(shown.text)
    assert "https://" not in shown.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    desk.clock.advance(timedelta(seconds=31))
    done = confirm(client, shown.text, code, pyotp.TOTP(secret.group(1)).at(desk.clock.now()))

    assert done.status_code == 200, done.text
    assert 'href="/login"' in done.text
    desk.clock.advance(timedelta(seconds=31))
    signed_in = sign_in(desk, "minh", CHOSEN, pyotp.TOTP(secret.group(1)).at(desk.clock.now()))
    assert signed_in.status_code == 303
    with desk.node.runtime.uow_factory() as uow:
        entries = [(e.tag, dict(e.details)) for e in uow.audit.entries()]
    tags = [tag for tag, _ in entries]
    assert tags.index("account:enrolment:issued") < tags.index("account:enrolment:started")
    assert tags.index("account:enrolment:started") < tags.index("account:enrolment:completed")
    logged = repr(entries)
    for secret_value in (code, CHOSEN, secret.group(1)):
        assert secret_value not in logged


def test_a_used_code_is_refused_with_the_same_message_as_a_made_up_one(desk: Desk) -> None:
    code = new_officer(desk)
    client = desk.client()
    shown = choose_password(client, code)
    secret = SECRET.search(shown.text)
    assert secret is not None
    desk.clock.advance(timedelta(seconds=31))
    assert confirm(client, shown.text, code, pyotp.TOTP(secret.group(1)).at(desk.clock.now()))

    again = choose_password(desk.client(), code, "a different passphrase")
    made_up = choose_password(desk.client(), "AAAA-" * 7 + "AAAA")

    assert again.status_code == made_up.status_code == 400
    assert REFUSED in unescape(again.text)
    assert REFUSED in unescape(made_up.text)
    desk.clock.advance(timedelta(seconds=31))
    totp = pyotp.TOTP(secret.group(1)).at(desk.clock.now())
    assert sign_in(desk, "minh", "a different passphrase", totp).status_code == 200  # refused
    assert sign_in(desk, "minh", CHOSEN, totp).status_code == 303


def test_an_expired_code_is_refused_with_the_same_message(desk: Desk) -> None:
    code = new_officer(desk)
    desk.clock.advance(timedelta(hours=72, seconds=1))

    late = choose_password(desk.client(), code)

    assert late.status_code == 400
    assert REFUSED in unescape(late.text)
    assert SECRET.search(late.text) is None


def test_sign_in_before_enrolment_is_complete_fails_like_any_failure(desk: Desk) -> None:
    code = new_officer(desk)
    shown = choose_password(desk.client(), code)  # password chosen, code never confirmed
    secret = SECRET.search(shown.text)
    assert secret is not None
    desk.clock.advance(timedelta(seconds=31))

    early = sign_in(desk, "minh", CHOSEN, pyotp.TOTP(secret.group(1)).at(desk.clock.now()))
    unknown = sign_in(desk, "nobody", CHOSEN, "123456")

    assert early.status_code == unknown.status_code == 200
    failed = i18n.translator("en").gettext("Sign-in failed.")
    assert failed in early.text
    assert failed in unknown.text


def test_a_wrong_authenticator_code_does_not_activate_the_account(desk: Desk) -> None:
    code = new_officer(desk)
    client = desk.client()
    shown = choose_password(client, code)
    secret = SECRET.search(shown.text)
    assert secret is not None
    desk.clock.advance(timedelta(seconds=31))
    right = pyotp.TOTP(secret.group(1)).at(desk.clock.now())

    wrong = confirm(client, shown.text, code, f"{(int(right) + 1) % 1_000_000:06d}")

    assert wrong.status_code == 400
    assert SECRET.search(wrong.text) is None  # the secret is not shown a second time
    assert sign_in(desk, "minh", CHOSEN, right).status_code == 200  # still refused
    desk.clock.advance(timedelta(seconds=31))
    later = confirm(client, wrong.text, code, pyotp.TOTP(secret.group(1)).at(desk.clock.now()))
    assert later.status_code == 200


def test_enrolment_refuses_a_form_without_the_csrf_token(desk: Desk) -> None:
    code = new_officer(desk)
    client = desk.client()
    client.get("/enrol")

    forged = client.post(
        "/enrol", data={"code": code, "password": CHOSEN, "password_again": CHOSEN}
    )

    assert forged.status_code == 403
    with desk.node.runtime.uow_factory() as uow:
        assert "account:enrolment:started" not in [e.tag for e in uow.audit.entries()]


def test_guessing_enrolment_codes_is_throttled_per_client(desk: Desk) -> None:
    client = desk.client()
    answers = [choose_password(client, "BBBB-" * 7 + "BBBB").status_code for _ in range(11)]

    assert answers[:10] == [400] * 10
    assert answers[10] == 429
    throttled = choose_password(client, "BBBB-" * 7 + "BBBB")
    assert int(throttled.headers["retry-after"]) >= 1


def test_a_password_the_rules_refuse_is_not_stored(desk: Desk) -> None:
    code = new_officer(desk)

    short = choose_password(desk.client(), code, "short")

    assert short.status_code == 422
    assert SECRET.search(short.text) is None
    assert choose_password(desk.client(), code).status_code == 200  # the code still works


@pytest.mark.parametrize("lang", ["ar", "zh", "vi"])
def test_the_enrol_pages_have_no_english_left(desk: Desk, lang: str) -> None:
    code = new_officer(desk)
    client = desk.client(headers={"accept-language": lang})
    first = client.get("/enrol").text
    shown = choose_password(client, code)
    refused = choose_password(client, "CCCC-" * 7 + "CCCC")

    msgids = ui_msgids(*LAYOUT, "templates/enrol.html", "pages/enrol.py")
    assert f'<html lang="{lang}"' in first
    for page in (first, shown.text, refused.text):
        assert english_left(page, msgids, lang) == []
