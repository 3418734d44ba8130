"""Browser tests: a real Chromium (Playwright) driving a real two-node network (VN, FR).

* ``net`` (per module): nodes VN and FR as separate ``hanoi247 serve`` processes on
  127.0.0.1 (``entrypoints.localnet``), pinned to each other, with the demo's HYPOTHETICAL
  treaty status imported (the UN Convention in force between them); ``net.user(state,
  role)`` adds a person with a password and a TOTP secret (helpers: browser_support.py).
* ``browser`` (per module): Debian's Chromium, headless, driven by Playwright (never
  ``playwright install``).
* ``new_page(lang="en", axe=False)``: a page in a fresh browser context (its own cookies),
  1280×800; ``axe=True`` lets axe-core's injected script past the Content-Security-Policy.

Everything here is module-scoped, not session-scoped, on purpose: Playwright's sync API
keeps an asyncio event loop running in the main thread while it is started, and the tests
collected after this folder call ``asyncio.run`` (which refuses to run inside a running
loop); the nodes stop with it.

Argon2 uses its cheap test parameters (``HANOI247_ARGON2_FAST=1``) in the nodes and here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    ACTOR,
    CHROMIUM,
    CHROMIUM_ARGS,
    NODE_ENV,
    PAGE_TIMEOUT_MS,
    READY_TIMEOUT,
    SPECS,
    VIEWPORT,
    Network,
    Node,
    PageFactory,
)
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from hanoi247.bootstrap import database, settings_for, system_clock
from hanoi247.entrypoints.demo_scenario import demo_status
from hanoi247.entrypoints.localnet import NodeProcess, provision
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.services.treaty_status import import_treaty_status

EXPECT_TIMEOUT_MS = 15_000  # a busy 2-core machine; arrivals wait longer (test_journeys)
LOCALES = {"en": "en-GB", "ar": "ar-EG", "zh": "zh-CN", "fr": "fr-FR", "vi": "vi-VN"}


expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANOI247_ARGON2_FAST", "1")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    root = tmp_path_factory.mktemp("browser-net")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NODE_ENV.items():
            patch.setenv(name, value)  # import_treaty_status reads the environment
        provisioned = provision(root / "nodes", SPECS, environ=NODE_ENV)
        status = demo_status(TreatyCatalogue.packaged())  # HYPOTHETICAL: uncc in force
        for node in provisioned:
            with database(settings_for(node.data_dir), create=False) as db:
                assert db is not None, f"{node.data_dir} has no database"
                import_treaty_status(
                    db.uow_factory, status, imported_by=ACTOR, clock=system_clock()
                )
    nodes: dict[str, Node] = {}
    try:
        for node in provisioned:
            log = root / f"{node.spec.node_id}.log"
            nodes[node.spec.state] = Node(node.spec.state, node, NodeProcess(node, NODE_ENV, log))
            nodes[node.spec.state].process.start()
        for each in nodes.values():
            each.process.wait_ready(READY_TIMEOUT)
        yield Network(nodes)
    finally:
        for each in nodes.values():
            each.process.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make sysdeps` installs Debian's chromium package")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """``new_page(lang="en", axe=False)``: ``lang`` is what the browser asks for
    (``Accept-Language``); the desk's language switcher can change it afterwards."""
    contexts: list[BrowserContext] = []

    def make(*, lang: str = "en", axe: bool = False) -> Page:
        context = browser.new_context(
            viewport=VIEWPORT,
            locale=LOCALES.get(lang, lang),
            timezone_id="UTC",
            bypass_csp=axe,  # axe-core is injected as an inline script
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
