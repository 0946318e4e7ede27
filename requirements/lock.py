"""The lock files: every runtime and dev dependency pinned with its hashes, made from pyproject.toml.

    python requirements/lock.py lock    # `make lock`: resolve again from PyPI and rewrite both files
    python requirements/lock.py lock --keep  # the same, keeping every existing pin (a dependency added)
    python requirements/lock.py check   # `make run` / `make test` / CI: fail if pyproject changed since

`runtime.txt` is what `desk` needs to run (with PostgreSQL's driver, and the build tools that install desk
itself); `dev.txt` adds the test and release tools, constrained to the same runtime versions. Both start
with `# pyproject-dependencies-sha256: …`, a digest of pyproject.toml's dependency lists: when someone
edits those lists without running `make lock`, the digest no longer matches and `check` says so before
anything is installed. Installs use `pip install --require-hashes --no-deps -r …` and then desk itself
with `--no-deps`, so a fresh machine gets exactly the set that was tested.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCKS = {"runtime.txt": ["--extra", "postgres"], "dev.txt": ["--extra", "postgres", "--extra", "dev"]}
HEADER = "# pyproject-dependencies-sha256: "
INDEX = "https://pypi.org/simple"


def dependencies_digest(pyproject: Path = PYPROJECT) -> str:
    """A digest of what pyproject.toml asks for (the lists, not their formatting or comments)."""
    document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = document["project"]
    wanted = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {name: sorted(deps)
                                  for name, deps in sorted(project.get("optional-dependencies", {}).items())},
        "build-system": sorted(document.get("build-system", {}).get("requires", [])),
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(HEADER):
            return line[len(HEADER):].strip()
    return None


def problems(directory: Path = HERE, pyproject: Path = PYPROJECT) -> list[str]:
    """Why the lock files cannot be trusted for this pyproject.toml (empty when they can)."""
    current, found = dependencies_digest(pyproject), []
    for name in LOCKS:
        lock, shown = directory / name, f"{directory.name}/{name}"
        if not lock.exists():
            found.append(f"{shown} is missing: run `make lock`")
        elif recorded_digest(lock) != current:
            found.append(f"{shown} was made for other dependencies than pyproject.toml's: "
                         "run `make lock` and commit both")
    return found


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every package a lock file pins (names normalised as pip does)."""
    out = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ")[0].split("==")
            out[normalise(name)] = version
    return out


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def lock(*, keep: bool = False) -> None:
    """Resolve from PyPI alone (no machine-local wheel folders or mirrors), with hashes; with `keep`, every
    package pinned already stays at its version (only what is new is resolved)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "PIP_INDEX_URL",
                                                            "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["CUSTOM_COMPILE_COMMAND"] = "make lock"
    compile_ = [sys.executable, "-m", "piptools", "compile", "--quiet", "--generate-hashes", "--allow-unsafe",
                "--strip-extras", "--all-build-deps", "--no-emit-index-url", "--no-emit-find-links",
                "--index-url", INDEX, "--newline", "LF", *([] if keep else ["--upgrade"])]
    digest = dependencies_digest()
    for name, extras in LOCKS.items():
        output = HERE / name
        constraint = ["--constraint", "requirements/runtime.txt"] if name != "runtime.txt" else []
        subprocess.run([*compile_, *extras, *constraint, "--output-file", f"requirements/{name}", "pyproject.toml"],
                       check=True, env=env, cwd=ROOT)  # relative paths: the files name no one's checkout
        text = output.read_text(encoding="utf-8")
        output.write_text(f"{HEADER}{digest}\n# made by `make lock` from pyproject.toml; do not edit\n{text}",
                          encoding="utf-8")
        print(f"{output.relative_to(ROOT)}: {len(pins(output))} packages pinned with hashes")


def main(argv: list[str]) -> int:
    if argv in (["lock"], ["lock", "--keep"]):
        lock(keep=argv[1:] == ["--keep"])
        return 0
    if argv == ["check"]:
        found = problems()
        for problem in found:
            print(f"lock check: {problem}", file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
