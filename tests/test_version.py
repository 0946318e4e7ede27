"""One version, written once (desk/__init__.py), shown by `desk --version`, the package metadata, /healthz
(tests/slack/test_requests.py) and named in CHANGELOG.md."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from desk import __version__
from tests.cli.runner import run_desk

ROOT = Path(__file__).resolve().parents[1]


def test_desk_version_prints_the_one_version(capsys: pytest.CaptureFixture) -> None:
    result = run_desk(capsys, "--version")
    assert result.code == 0 and result.out == f"desk {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_python_m_desk_version_works_as_a_process() -> None:
    done = subprocess.run([sys.executable, "-m", "desk", "--version"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"desk {__version__}"


def test_pyproject_reads_the_version_from_the_package_and_the_metadata_agrees() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "desk.__version__"}
    assert version("desk") == __version__


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
