"""Checking a page as people using assistive technology and keyboards meet it, in real headless Chromium.

- `assert_accessible(page)` runs axe-core (bundled by `axe-playwright-python`, nothing fetched) on the page
  as it stands and fails on any violation, at any impact, naming each rule, element and fix. The rules are
  WCAG 2.0, 2.1 and 2.2 at levels A and AA plus axe's best practices.
- `assert_keyboard_operable(page)` walks the page with the Tab key alone: every element a person can
  operate must be reached, in document order, and each must show a visible focus indicator (pixels around
  it change when it takes focus).

Debian's `chromium` is driven through Playwright's Python package, launched from its path: no browser
download (`playwright install` is never needed). Pages are opened with CSP bypassed so axe's script can
run inside pages that, rightly, allow no script of their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium")
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
VIEWPORT = {"width": 1200, "height": 900}

# What Tab can reach by HTML's rules; `tabindex="-1"` and disabled elements are left out, as the browser does.
FOCUSABLE = ("a[href], area[href], button, input:not([type=hidden]), select, textarea, summary, iframe, "
             "[contenteditable=''], [contenteditable=true], [tabindex]")

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                    "(bash .ci/chromium.sh installs it; .ci/run does so before the tests)")


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Debian's) under Playwright; yields a function opening a fresh page."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, *, viewport: dict | None = None):
    context = browser.new_context(bypass_csp=True, viewport=viewport or VIEWPORT, reduced_motion="reduce")
    return context.new_page()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it stands (each rule with the elements that fail it)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return results.response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for rule in violations:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']} [{', '.join(rule['tags'])}]")
        for node in rule["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"      {node.get('failureSummary', '').replace(chr(10), ' ')[:400]}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Fail on any axe-core violation on the page as it stands (call again after each change of state)."""
    violations = axe_violations(page)
    assert not violations, f"axe-core found {len(violations)} violation(s) on {page.url}:\n{describe(violations)}"


def focusable_elements(page) -> list[str]:
    """A description of each element Tab should reach, in document (= tab) order."""
    return page.evaluate("""(selector) => {
        const shown = (el) => {
            const style = getComputedStyle(el);
            return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0;
        };
        return [...document.querySelectorAll(selector)]
            .filter((el) => !el.disabled && el.tabIndex >= 0 && el.getAttribute('tabindex') !== '-1')
            .filter((el) => shown(el) || el.classList.contains('skip-link'))
            .map((el) => window.__deskDescribe(el));
    }""", FOCUSABLE)


DESCRIBE = """() => { window.__deskDescribe = (el) => {
    const name = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().slice(0, 60);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name}"`;
}; }"""


def assert_keyboard_operable(page) -> list[str]:
    """Tab through the page from the top: every operable element in order, each with a visible focus ring.

    Returns what was reached, so a caller can assert more (that a given control is among them)."""
    page.evaluate(DESCRIBE)
    expected = focusable_elements(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    # start before the first element, as a person arriving on the page does: focus a marker at the top of
    # the body that Tab itself never reaches (a click lands wherever the page puts its header, which may
    # stand after a skip link)
    page.evaluate("""() => { const start = document.createElement('span');
        start.tabIndex = -1; start.id = '__desk_start'; document.body.prepend(start); start.focus(); }""")
    reached: list[str] = []
    for _ in range(len(expected)):
        page.keyboard.press("Tab")
        current = page.evaluate("document.activeElement === document.body ? null : "
                                "window.__deskDescribe(document.activeElement)")
        assert current is not None, f"Tab left the page after {reached}"
        reached.append(current)
        _assert_focus_visible(page, current)
    assert reached == expected, f"Tab order {reached} is not the page's operable elements {expected}"
    return reached


def _assert_focus_visible(page, what: str) -> None:
    """The pixels around the focused element differ from the same place with focus elsewhere (WCAG 2.4.7)."""
    box = page.evaluate("""() => { const r = document.activeElement.getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height}; }""")
    assert box["width"] > 0 and box["height"] > 0, f"{what} takes focus but is not on screen"
    pad = 6
    clip = {"x": max(0, box["x"] - pad), "y": max(0, box["y"] - pad),
            "width": box["width"] + 2 * pad, "height": box["height"] + 2 * pad}
    focused = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("window.__deskFocused = document.activeElement; document.activeElement.blur()")
    blurred = page.screenshot(clip=clip, animations="disabled", caret="hide")
    page.evaluate("window.__deskFocused.focus({focusVisible: true})")
    assert focused != blurred, f"{what}: no visible change when it has keyboard focus"
