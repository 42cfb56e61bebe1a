"""Headless Debian Chromium for the browser tests: one launch configuration for every suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags, Chromium keeps trying hosts this closed machine
# refuses; the others keep a root, sandbox-less, GPU-less start quiet and repeatable.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path("/tmp")

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium on this machine"
)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium with the flags above, closed with Playwright even when a test fails."""
    from playwright.async_api import async_playwright  # only the browser tests pay for it

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in_on_page(
    page: Page, base: str, email: str, password: str, *, lang: str | None = None
) -> None:
    """Sign in through the sign-in page, as a person would, and wait for the home page."""
    await page.goto(f"{base}/connexion" + (f"?lang={lang}" if lang else ""))
    # The fields' ids, not their labels: the same steps serve the English page.
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("form[action='/connexion'] button[type=submit]").click()
    await page.wait_for_url(f"{base}/")


# The success criteria of WCAG 2.1, levels A and AA, as axe-core tags them: what the RGAA
# (the French public sector's accessibility rules) builds on.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def accessibility_violations(page: Page) -> list[str]:
    """What axe-core (Deque's engine, shipped by axe-playwright-python) finds against WCAG 2.1
    A/AA on the page as it is now, one line per rule: "rule (impact): help — first targets".
    Run through the DevTools protocol, so the page's Content-Security-Policy stays on."""
    import axe_playwright_python  # only the browser tests pay for it

    engine = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text()
    await page.evaluate(engine)
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
    ]


class AccessibilityAudit:
    """accessibility_violations() over the pages of a journey, kept by page name so the test
    lists every page and rule when it fails. Each page audited is also kept as a screenshot
    (/tmp/a11y-<area>-<n>.png), for the eye to check what axe cannot (a focus not shown, a
    table unreadable on a phone)."""

    def __init__(self, area: str) -> None:
        self.area = area
        self.found: dict[str, list[str]] = {}
        self.shots = 0

    async def check(self, page: Page, name: str) -> None:
        """Audit the page as it is now, under `name`."""
        self.shots += 1
        shot = SCREENSHOTS / f"a11y-{self.area}-{self.shots:02d}.png"
        await page.screenshot(path=str(shot), full_page=True)
        if violations := await accessibility_violations(page):
            self.found[name] = violations

    def report(self) -> str:
        """One line per page: its name and its rules broken."""
        return "\n".join(f"{name}: {lines}" for name, lines in self.found.items())
