"""desk is cloned alone: nothing it runs or tests may read the `../shared` folder that sits beside it on
the developers' machines. The Slack method reference and the payload fixtures it once read from there are
carried in the project (`desk/sandbox/slack_api_ref/`, `tests/fixtures/slack/`) with their licence notices.
`.ci/run` proves it for real by running the suite from a clone with no `../shared` beside it; this test
says which file broke the rule, in any checkout.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"""\.\./shared|/work/shared|["']\.\.["']\s*/\s*["']shared["']""")
THIS_FILE = Path(__file__).resolve()


def project_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    names = listed.stdout.split() if listed.returncode == 0 else [
        str(path.relative_to(ROOT)) for path in ROOT.rglob("*") if ".venv" not in path.parts]
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def test_no_project_file_refers_to_the_shared_folder_beside_the_clone() -> None:
    offenders = []
    for path in project_files():
        if path.resolve() == THIS_FILE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                      for number, line in enumerate(text.splitlines(), 1) if REFERENCE.search(line)]
    assert offenders == []


def test_the_bundled_reference_and_fixtures_carry_their_licence() -> None:
    reference = ROOT / "desk" / "sandbox" / "slack_api_ref"
    assert "MIT License" in (reference / "LICENSE.md").read_text()
    assert {"chat.postMessage.json", "views.open.json", "users.info.json"} <= {
        path.name for path in (reference / "methods").iterdir()}
    assert "Slack Technologies" in (ROOT / "tests" / "fixtures" / "slack" / "README.md").read_text()
