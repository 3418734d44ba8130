"""Helpers of the browser tests (fixtures are in conftest.py).

* ``Network.user(state, role, on_duty=False)`` adds a new person to a running node, with a
  password and a TOTP secret.
* ``sign_in(page, base_url, user, lang)`` types the user name, password and a fresh TOTP
  code (never a step the user has already used: the server refuses a code twice).
* ``switch_language(page, lang)`` uses the header's language switcher.
* ``axe_scan(page)``: axe-core's serious and critical violations (``describe`` them).
* ``screenshot(page, name)``: ``docs/screenshots/NAME.png``, 1280×800.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.bootstrap import build_runtime, open_database
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.commands import DraftRequest, SendRequest
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, ProvisionedNode
from hanoi247.services.accounts import add_shift, add_user

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
AXE_JS = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"  # `make axe` fetches it
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery staple"
ACTOR = "browser-tests"
SPECS = (
    NodeSpec("VN", "Viet Nam 24/7 point of contact (test)", "vn-browser"),
    NodeSpec("FR", "France 24/7 point of contact (test)", "fr-browser"),
)
TIMEZONES = {"VN": "Asia/Ho_Chi_Minh", "FR": "Europe/Paris"}
NAMES = {
    "VN": ("Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quốc Dũng"),
    "FR": ("Claire Martin", "Julien Moreau", "Sophie Bernard", "Karim Haddad"),
}
NODE_ENV = {
    "HANOI247_ARGON2_FAST": "1",
    "HANOI247_DATABASE_URL": "",  # SQLite in each node's own data directory
    "HANOI247_METRICS_TOKEN": "browser-tests-" + "x" * 32,
    # a request reaches the peer at once, and a retry comes fast on a loaded machine
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "1",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.2",
}
READY_TIMEOUT = 90.0  # two Python processes starting on a busy 2-core machine
PAGE_TIMEOUT_MS = 20_000  # one action or navigation
SERIOUS = ("serious", "critical")
PageFactory = Callable[..., Page]


# --- The network ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str
    totp_secret: str
    role: Role
    state: str
    display_name: str


@dataclass
class Node:
    state: str
    provisioned: ProvisionedNode
    process: NodeProcess

    @property
    def url(self) -> str:
        return self.provisioned.url

    @property
    def log(self) -> str:
        path = self.process.log_path
        return path.read_text(errors="replace")[-4000:] if path and path.exists() else ""


@dataclass
class Network:
    nodes: dict[str, Node]
    _count: int = 0

    def __getitem__(self, state: str) -> Node:
        return self.nodes[state]

    def user(self, state: str, role: Role = Role.OFFICER, *, on_duty: bool = False) -> Login:
        """A new person on ``state``'s node (password + TOTP), primary on duty if asked."""
        self._count += 1
        node = self.nodes[state]
        username = f"{state.lower()}.{role.value.replace('_', '-')}{self._count}"
        names = NAMES[state]
        display_name = f"{names[self._count % len(names)]} ({self._count})"
        db = open_database(node.provisioned.settings(NODE_ENV), create=False)
        assert db is not None
        now = datetime.now(UTC)
        try:
            added = add_user(
                db.uow_factory(),
                Authenticator(FAST),
                username=username,
                display_name=display_name,
                email=f"{username}@example.net",
                role=role,
                now=now,
                actor=ACTOR,
                timezone=TIMEZONES[state],
                password=PASSWORD,
                totp=True,
            )
            if on_duty:
                add_shift(
                    db.uow_factory(),
                    username=username,
                    position=Position.PRIMARY,
                    starts_at=now - timedelta(minutes=1),
                    ends_at=now + timedelta(days=1),
                    now=now,
                    actor=ACTOR,
                )
        finally:
            db.close()
        assert added.totp_secret is not None
        return Login(username, PASSWORD, added.totp_secret, role, state, display_name)

    def send_request(self, login: Login, payload: dict[str, Any]) -> tuple[str, str]:
        """``login`` drafts and sends ``payload`` through their node's workflow (the running
        node's sender delivers it); (request id, reference)."""
        runtime = build_runtime(self.nodes[login.state].provisioned.settings(NODE_ENV))
        try:
            with runtime.uow_factory() as uow:
                user = uow.users.by_username(login.username)
            assert user is not None
            draft = runtime.handle(DraftRequest(by=user.id, payload=payload, instrument="uncc"))
            sent = runtime.handle(SendRequest(by=user.id, request_id=draft.request_id))
        finally:
            runtime.close()
        return sent.request_id, sent.reference

    def wait_for_request(self, state: str, request_id: str, timeout: float = 45.0) -> None:
        """Until ``state``'s node holds the request (delivered by its peer's sender)."""
        db = open_database(self.nodes[state].provisioned.settings(NODE_ENV), create=False)
        assert db is not None
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with db.uow_factory() as uow:
                    if uow.requests.get(request_id) is not None:
                        return
                time.sleep(0.2)
        finally:
            db.close()
        raise AssertionError(f"{request_id} did not reach {state} in {timeout} s")


# --- Helpers -------------------------------------------------------------------------------


@dataclass
class _Steps:
    """The TOTP step each user last signed in with: the server refuses a step twice."""

    used: dict[str, int] = field(default_factory=dict)

    def fresh_code(self, login: Login) -> str:
        totp = pyotp.TOTP(login.totp_secret)
        step = int(time.time()) // totp.interval
        last = self.used.get(login.username)
        if last is not None and step <= last:
            time.sleep((last + 1) * totp.interval - time.time() + 0.2)  # the next step
        moment = time.time()
        self.used[login.username] = int(moment) // totp.interval
        return totp.at(moment)


_STEPS = _Steps()


def fresh_code(login: Login) -> str:
    """A current TOTP code of ``login`` in a step it has not used yet (enrolment too)."""
    return _STEPS.fresh_code(login)


def switch_language(page: Page, lang: str) -> None:
    """The header's language switcher, as a person uses it (select, then the button)."""
    if page.locator("html").get_attribute("lang") == lang:
        return
    page.locator("#language-select").select_option(lang)
    page.locator("form.language button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def sign_in(page: Page, base_url: str, user: Login, lang: str = "en") -> None:
    """Open the sign-in page, choose ``lang``, type the user name, password and a fresh
    TOTP code, and wait to land signed in (the sign-out button shows)."""
    page.goto(f"{base_url}/login")
    switch_language(page, lang)
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(user.password)
    page.locator("#totp").fill(_STEPS.fresh_code(user))
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("form.logout")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def axe_scan(page: Page, **options: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds in the page as it is now (the
    page's context must come from ``new_page(axe=True)``)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make axe` (it fetches axe-core with npm)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    return [v for v in results["violations"] if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable list for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']}")
        lines.extend(f"    {node['target']}" for node in violation["nodes"][:5])
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """``docs/screenshots/NAME.png``: the 1280×800 viewport as the officer sees it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.set_viewport_size(VIEWPORT)
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path
