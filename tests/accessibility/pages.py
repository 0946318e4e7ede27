"""Every page desk serves to people, checked by tests/accessibility/test_pages.py (axe-core, keyboard).

A page is a name, the fixture (in conftest.py) that serves it and answers its URL, the HTTP status it must
come with, and whether the keyboard walk runs on it. To check a new page, write a fixture returning its
URL (start what serves it, as `report_with_data` does) and add one line to PAGES. The sandbox console's
fixture is ready in conftest.py (`sandbox_console`, skipping where `desk sandbox` does not exist yet); its
line is `Page("sandbox console", "sandbox_console"),`. A page's other states (after a click, a dialog
open) are checked in their own tests with `assert_accessible(page)` from browser.py after each change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    fixture: str  # a fixture answering the page's URL, served for the test's duration
    status: int = 200
    keyboard: bool = True
    method: str = "GET"  # another method is sent by rewriting the browser's own request


PAGES = (
    Page("SLA report, all councils", "report_with_data"),
    Page("SLA report, one council", "report_for_one_council"),
    Page("SLA report, empty period", "report_empty"),
    Page("report link invalid or expired (403)", "link_refused", status=403),
    Page("report no longer available (404)", "link_to_a_removed_council", status=404),
    Page("report could not be produced (500)", "report_failing", status=500),
    Page("report link used with the wrong method (405)", "report_with_data", status=405, method="POST"),
    Page("sandbox console", "sandbox_console"),
)
