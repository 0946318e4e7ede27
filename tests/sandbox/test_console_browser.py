"""The console in real headless Chromium (Debian's `chromium`, driven by Playwright; no browser download).

A Cherwell member posts "We cannot take card payments"; the thread confirmation and the triage card
appear; an engineer claims it and replies in the thread; the member sees the reply; the engineer resolves
it through its modal (desk's own validation shown on the form first); the member rates it; a week later
the digest with its chart is in Cherwell's channel. Each person only uses what a person would: the
picker, the sidebar, buttons, the composer, the modal. Screenshots land in `artifacts/` (and in `docs/`
with DESK_SCREENSHOTS=docs, which is how the README's pictures are made).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.cli import sandbox_run
from tests.sandbox.console_client import PAPERCUT, SandboxApi

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(bash .ci/chromium.sh installs it; .ci/run does so before the tests)")
try:
    from playwright import sync_api as playwright
except ImportError as missing:  # where chromium is, the driver must be too (it is a dev extra)
    if CHROMIUM is None:
        playwright = None
    else:
        raise ImportError("playwright (the Python package) is a dev extra: pip install -e '.[dev]' "
                          "(never `playwright install`: the test drives Debian's chromium)") from missing

WAIT = 20_000  # ms


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[sandbox_run.Sandbox]:
    running = sandbox_run.start(database_url=f"sqlite:///{tmp_path / 'sandbox.db'}", port=0,
                                playbooks_dir=ROOT / "playbooks")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def page(sandbox: sandbox_run.Sandbox):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            yield tab
            assert errors == [], "the console's script failed"
        finally:
            browser.close()


def shots_dir() -> Path:
    target = ROOT / ("docs" if os.environ.get("DESK_SCREENSHOTS") == "docs" else "artifacts")
    target.mkdir(exist_ok=True)
    return target


def act_as(page, name: str) -> None:
    option = page.locator("#acting-as option", has_text=name).first
    page.select_option("#acting-as", option.get_attribute("value"))


def go_to(page, channel: str) -> None:
    page.get_by_role("navigation", name="Conversations").get_by_role("button", name=channel, exact=True).click()
    page.get_by_role("heading", name=f"# {channel}").wait_for(timeout=WAIT)


def post_request(page, url: str, member: dict) -> None:
    """`member` opens the console in their council's channel and posts the paper-cut request (CHW-1)."""
    page.goto(f"{url}/?as={member['id']}")
    page.get_by_role("heading", name="# cherwell-support").wait_for(timeout=WAIT)
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(PAPERCUT)
    composer.press("Enter")
    page.get_by_text("Thanks, this is CHW-1").wait_for(timeout=WAIT)


def test_a_request_in_the_console_from_first_message_to_the_digest(sandbox, page) -> None:
    api = SandboxApi(sandbox.url)
    member, engineer = api.someone("council", "cherwell"), api.someone("engineer")
    post_request(page, sandbox.url, member)
    page.screenshot(path=shots_dir() / "sandbox-council-thread.png")

    act_as(page, engineer["name"])
    page.get_by_role("heading", name="# desk-triage").wait_for(timeout=WAIT)
    card = page.locator("article.message", has_text="CHW-1").first
    card.get_by_role("button", name="Claim").click()
    card.get_by_text(engineer["name"].split()[0]).first.wait_for(timeout=WAIT)
    page.screenshot(path=shots_dir() / "sandbox-console.png")

    go_to(page, "cherwell-support")
    page.locator("article.message", has_text=PAPERCUT).first.get_by_role("button", name="Reply in thread").click()
    reply = page.get_by_role("textbox", name="Reply in thread")
    reply.fill("Looking at the card terminal logs now")
    reply.press("Enter")
    page.locator(".thread article", has_text="Looking at the card terminal logs now").wait_for(timeout=WAIT)

    act_as(page, member["name"])
    page.locator(".thread article", has_text="Looking at the card terminal logs now").wait_for(timeout=WAIT)

    act_as(page, engineer["name"])
    page.locator("article.message", has_text="CHW-1").first.get_by_role("button", name="Resolve").click()
    dialog = page.get_by_role("dialog")
    note = dialog.get_by_role("textbox", name="Resolution note")
    note.fill("   ")
    dialog.get_by_role("button", name="Resolve").click()
    dialog.get_by_text("Required").wait_for(timeout=WAIT)
    assert note.get_attribute("aria-invalid") == "true"
    page.screenshot(path=shots_dir() / "sandbox-modal.png")
    note.fill("Replaced the PIN pad on terminal 3")
    dialog.get_by_role("button", name="Resolve").click()
    dialog.wait_for(state="hidden", timeout=WAIT)

    act_as(page, member["name"])
    resolved = page.locator("article.message", has_text="is resolved").first
    resolved.wait_for(timeout=WAIT)
    resolved.get_by_role("button", name="5 ★★★★★").click()
    page.get_by_text("Thanks for rating us").first.wait_for(timeout=WAIT)

    charts_before = page.locator("figure.file img").count()
    page.get_by_role("button", name="+1 week").click()
    page.locator("figure.file img").nth(charts_before).wait_for(timeout=WAIT)
    chart = page.locator("figure.file img").last
    chart.scroll_into_view_if_needed()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 100"), "the chart is a real image"
    page.screenshot(path=shots_dir() / "sandbox-digest.png")

    page.get_by_role("button", name="desk — Home").click()
    page.locator("#home .view").wait_for(timeout=WAIT)
    page.screenshot(path=shots_dir() / "sandbox-home.png")
    assert api.state()["violations"] == []


def test_the_console_can_be_used_from_the_keyboard_and_names_every_control(sandbox, page) -> None:
    api = SandboxApi(sandbox.url)
    member = api.someone("council", "cherwell")
    page.goto(f"{sandbox.url}/?as={member['id']}")
    page.get_by_role("heading", name="# cherwell-support").wait_for(timeout=WAIT)
    for landmark in ("banner", "navigation", "main"):
        assert page.get_by_role(landmark).count() >= 1, f"no {landmark} landmark"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the conversation"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "conversation"

    composer = page.get_by_role("textbox", name="Message")
    composer.focus()
    page.keyboard.type(PAPERCUT)
    page.keyboard.press("Enter")
    page.get_by_text("Thanks, this is CHW-1").wait_for(timeout=WAIT)
    act_as(page, api.someone("engineer")["name"])
    page.locator("article.message", has_text="CHW-1").first.wait_for(timeout=WAIT)  # the card's selects

    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, select, textarea, input, a[href]')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => {
          const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
          const own = el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.tagName === 'INPUT'
            ? '' : el.textContent.trim();  // a form control is named by its label, not by what it holds
          return !(el.getAttribute('aria-label') || label.trim() || own || el.title);
        }).map((el) => el.outerHTML.slice(0, 120))""")
    assert unnamed == []
    assert page.locator("select[data-kind='select']").count() >= 2
    reply = page.get_by_role("button", name="Reply in thread").first
    reply.focus()
    outline = reply.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), f"focus is not visible: {outline}"


def test_the_support_team_acts_with_reactions_and_a_council_member_is_offered_only_ticket(sandbox, page) -> None:
    api = SandboxApi(sandbox.url)
    member, engineer = api.someone("council", "cherwell"), api.someone("engineer")
    post_request(page, sandbox.url, member)
    request = page.locator("article.message", has_text=PAPERCUT).first
    assert request.get_by_role("button", name="Add :ticket:").count() == 1
    assert request.get_by_role("button", name="Add :eyes:").count() == 0, "a council member's 👀 does nothing"

    act_as(page, engineer["name"])
    page.get_by_role("heading", name="# desk-triage").wait_for(timeout=WAIT)
    card = page.locator("article.message", has_text="CHW-1").first
    card.get_by_role("button", name="Add :eyes:").click()  # 👀 claims
    card.get_by_role("button", name="Take over").wait_for(timeout=WAIT)
    card.get_by_text(engineer["name"].split()[0]).first.wait_for(timeout=WAIT)

    go_to(page, "cherwell-support")
    request = page.locator("article.message", has_text=PAPERCUT).first
    request.get_by_role("button", name="Add :white_check_mark:").click()  # ✅ on the council's message resolves
    page.locator("article.message", has_text="is resolved").first.wait_for(timeout=WAIT)
    page.get_by_role("navigation", name="Conversations").get_by_role("button", name="desk-triage").click()
    page.get_by_role("heading", name="# desk-triage").wait_for(timeout=WAIT)
    page.locator("article.message", has_text="CHW-1").first.get_by_role(
        "button", name="Edit resolution note").wait_for(timeout=WAIT)
    page.screenshot(path=shots_dir() / "sandbox-reactions.png")
    assert api.state()["violations"] == []
