"""axe-core finds no violation on any page desk serves, and each can be used with a keyboard alone.

The pages are listed in tests/accessibility/pages.py; each is fetched from the running app in headless
Chromium, checked in its initial state, and walked with Tab. See docs/accessibility.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.accessibility.browser import assert_accessible, assert_keyboard_operable, needs_chromium, new_page
from tests.accessibility.pages import PAGES, Page

pytestmark = needs_chromium
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_axe_violation_and_works_by_keyboard(spec: Page, browser, request) -> None:
    url = request.getfixturevalue(spec.fixture)
    page = new_page(browser)
    if spec.method != "GET":
        page.route(url, lambda route: route.continue_(method=spec.method))
    try:
        answer = page.goto(url)
        assert answer is not None and answer.status == spec.status, f"{spec.name}: HTTP {answer and answer.status}"
        assert_accessible(page)
        if spec.keyboard:
            assert_keyboard_operable(page)
    finally:
        page.context.close()


def test_the_report_by_keyboard_skip_link_contents_and_the_wide_table(browser, report_with_data: str) -> None:
    page = new_page(browser)
    try:
        page.goto(report_with_data)
        reached = assert_keyboard_operable(page)
        assert reached[0] == 'a "Skip to the figures"'
        contents = ["Summary", "Volumes and compliance", "Times, pauses and satisfaction", "Weekly trend",
                    "Backlog by age", "Breaches", "Satisfaction", "How these figures are computed", "Tickets"]
        assert reached[1:10] == [f'a "{name}"' for name in contents]
        assert reached[10].startswith('div "') and "CHW-1" in page.locator(".scroll").inner_text()
        assert len(reached) == 11, reached

        page.mouse.click(1, 1)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the skip link takes focus past the header to the figures
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # and the next Tab goes on from there, not back to the contents
        assert page.evaluate("document.activeElement.className") == "scroll"

        page.mouse.click(1, 1)
        for _ in range(10):  # skip link, then the contents down to "Tickets"
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#tickets"
        assert page.evaluate("document.getElementById('tickets').getBoundingClientRect().top") < 100

        scroll = page.locator(".scroll")  # the tickets table is wider than the page: arrows scroll it
        page.set_viewport_size({"width": 700, "height": 900})
        scroll.focus()
        before = scroll.evaluate("el => el.scrollLeft")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
        # the arrow keys scroll it (Chromium may finish the scroll after the key press returns)
        page.wait_for_function("before => document.querySelector('.scroll').scrollLeft > before", arg=before,
                               timeout=5000)
    finally:
        page.context.close()


def test_the_machinery_catches_what_it_is_for(browser) -> None:
    """The helpers fail on a real violation and on an invisible focus: they are not checks that pass anyway."""
    page = new_page(browser)
    try:
        page.set_content('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                         '<p style="color:#aaa">faint</p><img src="data:,"></main></body></html>')
        with pytest.raises(AssertionError, match="color-contrast") as caught:
            assert_accessible(page)
        assert "image-alt" in str(caught.value)

        page.set_content('<!DOCTYPE html><html lang="en"><head><title>t</title><style>a{outline:none}</style>'
                         '</head><body><main><h1>t</h1><a href="#x">one</a> <a id="x" href="#">two</a>'
                         '</main></body></html>')
        with pytest.raises(AssertionError, match="no visible change when it has keyboard focus"):
            assert_keyboard_operable(page)

        page.set_content('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                         '<a href="#x">one</a><span onclick="1" tabindex="0" style="display:none">x</span>'
                         '<a href="#" tabindex="-1">unreachable by design</a></main></body></html>')
        assert assert_keyboard_operable(page) == ['a "one"']
    finally:
        page.context.close()


def test_screenshots_for_people_to_look_at(browser, report_with_data: str, report_empty: str,
                                           link_refused: str) -> None:
    """Screenshots under artifacts/ (gitignored): docs/screenshots/ holds copies of these, looked at by a
    person. The focus one shows the contents link "Weekly trend" as a keyboard user sees it."""
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    page = new_page(browser, viewport={"width": 1100, "height": 1400})
    try:
        for name, url in (("report", report_with_data), ("report-empty", report_empty),
                          ("report-link-expired", link_refused)):
            page.goto(url)
            shots[name] = ARTIFACTS / f"{name}.png"
            page.screenshot(path=shots[name])
        page.goto(report_with_data)
        page.mouse.click(1, 1)
        for _ in range(5):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Weekly trend"
        shots["report-keyboard-focus"] = ARTIFACTS / "report-keyboard-focus.png"
        page.screenshot(path=shots["report-keyboard-focus"], clip={"x": 0, "y": 0, "width": 1100, "height": 300})
        page.goto(report_with_data + "#trend")
        # a fragment on the same page only scrolls: wait until the trend section is at the top, painted
        page.wait_for_function("""() => { const r = document.getElementById('trend').getBoundingClientRect();
            return Math.abs(r.top) < 50; }""", timeout=10_000)
        page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))")
        shots["report-chart-and-figures"] = ARTIFACTS / "report-chart-and-figures.png"
        page.screenshot(path=shots["report-chart-and-figures"])
    finally:
        page.context.close()
    for name, path in shots.items():
        with Image.open(path) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 20, f"{name}: (nearly) one colour, nothing rendered"
