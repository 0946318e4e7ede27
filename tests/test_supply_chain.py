"""The lock files are what is installed and what pyproject.toml asks for; the SBOM and licence list come
from them (requirements/lock.py, requirements/supply_chain.py, the Makefile's install lines)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
sys.path.insert(0, str(REQUIREMENTS))
import lock  # noqa: E402
import supply_chain  # noqa: E402


def test_the_locks_were_made_from_pyproject_as_it_is() -> None:
    assert lock.problems() == []
    done = subprocess.run([sys.executable, str(REQUIREMENTS / "lock.py"), "check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_dependency_changed_without_a_new_lock_fails_the_check(tmp_path: Path) -> None:
    pyproject, locks = tmp_path / "pyproject.toml", tmp_path / "requirements"
    shutil.copytree(REQUIREMENTS, locks, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(text.replace("# desk/__init__.py", "# reformatted comments change nothing; desk/__init__.py"))
    assert lock.problems(locks, pyproject) == []
    for changed in (text.replace('"jinja2>=3.1"', '"jinja2>=3.2"'),
                    text.replace('"ruff>=0.5",', '"ruff>=0.5",\n    "requests>=2",'),
                    text.replace('requires-python = ">=3.11"', 'requires-python = ">=3.12"')):
        assert changed != text
        pyproject.write_text(changed)
        assert lock.problems(locks, pyproject) == [
            f"requirements/{name} was made for other dependencies than pyproject.toml's: run `make lock` and "
            "commit both" for name in ("runtime.txt", "dev.txt")]
    (locks / "dev.txt").unlink()
    assert lock.problems(locks, pyproject)[1] == "requirements/dev.txt is missing: run `make lock`"


def test_every_pin_has_hashes_and_dev_agrees_with_runtime() -> None:
    runtime, dev = lock.pins(REQUIREMENTS / "runtime.txt"), lock.pins(REQUIREMENTS / "dev.txt")
    assert {"slack-bolt", "sqlmodel", "psycopg", "setuptools"} <= set(runtime)
    assert {"pytest", "playwright", "axe-playwright-python", "pip-tools", "cyclonedx-bom"} <= set(dev)
    assert {name: dev[name] for name in runtime} == runtime, "the dev lock pins the runtime set as it is"
    for path in (REQUIREMENTS / "runtime.txt", REQUIREMENTS / "dev.txt"):
        blocks = re.split(r"\n(?=\S)", path.read_text())
        pinned = [block for block in blocks if "==" in block.split("\n")[0] and not block.startswith("#")]
        assert pinned and all("--hash=sha256:" in block for block in pinned), path
        assert "/opt/" not in path.read_text() and "--find-links" not in path.read_text()


def test_what_is_installed_here_is_what_is_locked() -> None:
    """The suite runs on exactly the locked set (make test and CI install it with --require-hashes)."""
    wrong = {}
    for name, pinned in lock.pins(REQUIREMENTS / "dev.txt").items():
        if name in ("pip", "setuptools", "wheel"):
            continue  # installers, upgraded by pip itself where needed
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert wrong == {}, f"installed differently from requirements/dev.txt (run make test): {wrong}"


def test_the_makefile_installs_from_the_locks_with_hashes_and_desk_without_dependencies() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "INSTALL_LOCKED := $(BIN)/pip install --quiet --require-hashes --no-deps -r" in makefile
    assert "INSTALL_DESK := $(BIN)/pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    for target, lock_file in ((".installed", "runtime.txt"), (".installed-dev", "dev.txt")):
        recipe = re.search(rf"^\$\(VENV\)/{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert recipe, target
        assert recipe.group(1).splitlines()[:3] == ["\t$(LOCK_CHECK)", f"\t$(INSTALL_LOCKED) requirements/{lock_file}",
                                                    "\t$(INSTALL_DESK)"]
    assert not re.search(r"pip install[^\n]*-e '?\.\[", makefile), "no install resolves from pyproject ranges"


def test_the_sbom_lists_exactly_the_runtime_lock(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    assert supply_chain.main(["sbom", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["bomFormat"] == "CycloneDX" and document["metadata"]["component"]["name"] == "desk"
    from desk import __version__
    assert document["metadata"]["component"]["version"] == __version__
    listed = {lock.normalise(c["name"]): c["version"] for c in document["components"]}
    assert listed == lock.pins(REQUIREMENTS / "runtime.txt")
    assert all(c["purl"] == f"pkg:pypi/{c['name']}@{c['version']}" for c in document["components"])
    committed = json.loads((ROOT / "docs" / "supply-chain" / "sbom.cdx.json").read_text())
    assert committed == document, "docs/supply-chain/sbom.cdx.json is out of date: run make sbom"


def test_the_licence_list_covers_every_locked_package_and_refuses_what_is_not_osi_approved(tmp_path: Path) -> None:
    out = tmp_path / "licences.md"
    assert supply_chain.licences(out) == 0
    rows = re.findall(r"^\| (\S+) \| (\S+) \| (runtime|dev) \| (.+) \| (yes|\*\*NO\*\*) \|$", out.read_text(), re.M)
    assert {name: v for name, v, *_ in rows} == lock.pins(REQUIREMENTS / "dev.txt")
    assert all(ok == "yes" for *_, ok in rows)
    assert out.read_text() == (ROOT / "docs" / "supply-chain" / "licences.md").read_text(), "run make licences"

    assert supply_chain.judge("x", {"License": "MIT AND PSF-2.0"})[1]
    assert supply_chain.judge("x", {"License": "ISC License (ISCL)"})[1]
    assert not supply_chain.judge("x", {"License": "Proprietary"})[1]
    assert not supply_chain.judge("x", {"License": "MIT AND SSPL-1.0"})[1]
    assert not supply_chain.judge("x", {"License": "Commons Clause"})[1]
    assert not supply_chain.judge("x", {"License": "UNKNOWN"})[1]
    assert supply_chain.judge("x", {"License": "DFSG approved; MIT License"})[1]  # a qualifier beside a licence
    assert not supply_chain.judge("x", {"License": "DFSG approved"})[1]  # a qualifier alone names no licence
    assert not supply_chain.judge("axe-playwright-python", {"License": "UNKNOWN", "LicenseText": "All rights reserved"})[1]
    assert not supply_chain.judge("x", None)[1]


@pytest.mark.parametrize("command", [["sbom", "a", "b"], ["nothing"], []])
def test_the_scripts_say_how_to_use_them(command: list[str]) -> None:
    assert supply_chain.main(command) == 2 and lock.main(command) == 2
