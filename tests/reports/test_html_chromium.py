"""The HTML report in a real headless Chromium (Debian's `chromium`), fetched through a signed link.

The app is the real web process (desk's WSGI front, in a thread, as in tests/slack/conftest.py) over the
hand-computed history of tests/services/test_reports.py. Chromium fetches the page like a person would:
the charts must be in the rendered DOM as SVG with drawn shapes, the page must screenshot and print to
PDF, and a changed or expired link must show the 403 page. Screenshots and the PDF are kept under
`artifacts/` (gitignored) for people to look at. `.ci/run` installs Chromium (`.ci/chromium.sh`); where it
is missing the test is skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from desk.db.engine import unit_of_work
from desk.services.report_links import LinkMaker
from tests.services.test_reports import END, START, seed
from tests.slack.conftest import Desk

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = shutil.which("chromium")
WINDOW = (1200, 2000)
CHARTS = 4  # compliance by council and priority, volume per week, trend per week, backlog by age

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(bash .ci/chromium.sh installs it; .ci/run does so before the tests)")


class Chromium:
    """One headless Chromium run per call, each with a fresh profile, no network beyond the page."""

    def __init__(self, profile_root: Path) -> None:
        self.profile_root = profile_root
        self.runs = 0

    def __call__(self, url: str, *options: str) -> subprocess.CompletedProcess:
        assert CHROMIUM is not None
        self.runs += 1
        profile = self.profile_root / f"profile-{self.runs}"
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                   f"--window-size={WINDOW[0]},{WINDOW[1]}", *options, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    def dom(self, url: str) -> str:
        return self(url, "--dump-dom").stdout


@pytest.fixture
def served(desk: Desk) -> tuple[Desk, LinkMaker]:
    with unit_of_work(desk.engine) as session:
        seed(session)
    desk.clock.at = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    app = urlsplit(desk.driver.app_url)
    links = desk.wiring.report_links()
    assert links is not None
    return desk, LinkMaker(f"{app.scheme}://{app.netloc}", links.secret)  # the app's real address


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    ARTIFACTS.mkdir(exist_ok=True)
    return Chromium(tmp_path)


def charts_in(dom: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", dom, flags=re.S)


def test_the_managers_report_renders_with_its_charts_and_prints(served, chromium: Chromium) -> None:
    desk, links = served
    url, _ = links.url(None, START, END, now=desk.clock.now())

    dom = chromium.dom(url)
    assert "Cherwell District Council" in dom and "Fife Council" in dom
    charts = charts_in(dom)
    assert len(charts) >= CHARTS, f"{len(charts)} charts in the rendered page"
    assert all('role="img"' in chart and re.search(r"<(rect|path|polyline|circle|line)\b", chart)
               for chart in charts)

    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    chromium(url, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 20_000, "a screenshot this small is a blank page"
    with Image.open(screenshot) as image:
        assert image.format == "PNG" and image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "the screenshot is (nearly) one colour: nothing rendered"

    pdf = ARTIFACTS / "report.pdf"
    pdf.unlink(missing_ok=True)
    chromium(url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    document = pdf.read_bytes()
    assert document.startswith(b"%PDF-") and len(document) > 10_000


def test_a_council_link_in_the_browser_shows_only_that_council(served, chromium: Chromium) -> None:
    desk, links = served
    url, _ = links.url("cherwell", START, END, now=desk.clock.now())
    dom = chromium.dom(url + "&council=fife")  # extra parameters change nothing
    assert "Cherwell District Council" in dom and "CHW-4" in dom
    assert "Fife" not in dom and "FIFE-" not in dom
    assert len(charts_in(dom)) >= CHARTS
    chromium(url, f"--screenshot={ARTIFACTS / 'report-cherwell.png'}")


def test_a_changed_or_expired_link_shows_the_403_page(served, chromium: Chromium) -> None:
    desk, links = served
    url, _ = links.url("cherwell", START, END, now=desk.clock.now(), lifetime=timedelta(minutes=5))
    body, signature = url.split("t=", 1)[1].split(".")
    forged = url.split("t=", 1)[0] + "t=" + body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    for link in (forged, url):
        if link == url:
            desk.clock.advance(minutes=5)
        dom = chromium.dom(link)
        assert "This link is invalid or has expired" in dom and "Cherwell" not in dom
        assert not charts_in(dom)
