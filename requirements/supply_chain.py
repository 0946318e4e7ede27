"""The bill of materials and the licence list, both from the lock files (`make sbom`, `make licences`).

    python requirements/supply_chain.py sbom [OUT]       # CycloneDX JSON of requirements/runtime.txt
    python requirements/supply_chain.py licences [OUT]   # every locked package's licence; exit 1 on one
                                                         # that is not OSI-approved (or not known)

`sbom` runs `cyclonedx-py requirements` on the runtime lock (every package with its version, PURL and
hashes), names desk's own version in it and makes it reproducible (no timestamp or random serial).

`licences` reads each locked package's licence from its installed metadata (`pip-licenses`: the SPDX
`License-Expression`, else the `License` field, else trove classifiers), so run it where the dev lock is
installed (`make licences` does that first). An expression passes when every licence in it is
OSI-approved (OSI_APPROVED, below, with the reason for each judgement that is not obvious). A package
whose metadata names no licence passes only through KNOWN, which says what its licence file says and is
re-checked against that file on every run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from lock import normalise, pins  # noqa: E402  (a sibling script, not a package)

BIN = Path(sys.executable).parent
RUNTIME, DEV = HERE / "runtime.txt", HERE / "dev.txt"

# SPDX ids and the trove classifier names that say the same, each OSI-approved (opensource.org/licenses).
OSI_APPROVED = {
    "MIT", "MIT License", "0BSD", "BSD", "BSD License", "BSD-2-Clause", "BSD-3-Clause", "ISC", "ISC License (ISCL)",
    "Apache-2.0", "Apache Software License", "Apache License 2.0", "MPL-2.0", "Mozilla Public License 2.0 (MPL 2.0)",
    "LGPL-3.0-only", "LGPL-3.0-or-later", "GNU Lesser General Public License v3 (LGPLv3)",
    "Python-2.0",
    # The PSF License Agreement is the operative part of the OSI-approved Python License (Python-2.0).
    "PSF-2.0", "Python Software Foundation License",
    # Pillow's licence: the CMU/MIT-style HPND variant, OSI-approved as "CMU License (MIT-CMU)".
    "MIT-CMU", "HPND",
}
# Trove classifiers that qualify the licence named beside them rather than name one ("License :: DFSG
# approved"): left out of the judgement, which still needs a licence from OSI_APPROVED beside them.
QUALIFIERS = {"DFSG approved", "OSI Approved"}
# Packages whose metadata names no licence: what the licence file they ship says, checked on each run.
KNOWN = {
    "axe-playwright-python": ("MIT", "MIT License"),  # its LICENSE; the axe-core it bundles is MPL-2.0
}


def sbom(out: Path) -> None:
    from desk import __version__

    subprocess.run([str(BIN / "cyclonedx-py"), "requirements", "--pyproject", "pyproject.toml",
                    "--output-reproducible", "--of", "JSON", "-o", str(out), "requirements/runtime.txt"],
                   check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    document = json.loads(out.read_text(encoding="utf-8"))
    document["metadata"]["component"]["version"] = __version__
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"{out}: CycloneDX {document['specVersion']}, desk {__version__} and "
          f"{len(document['components'])} components from requirements/runtime.txt")


def installed_licences(names: list[str]) -> dict[str, dict]:
    listed = subprocess.run([str(BIN / "pip-licenses"), "--from=mixed", "--format=json", "--with-system",
                             "--with-license-file", "--no-license-path", "--packages", *names],
                            check=True, capture_output=True, text=True).stdout
    return {normalise(item["Name"]): item for item in json.loads(listed)}


def judge(name: str, item: dict | None) -> tuple[str, bool]:
    """(the licence as stated, whether it is acceptable)."""
    if item is None:
        return "not installed: run `make licences` (it installs the dev lock first)", False
    stated = item["License"]
    if stated in ("UNKNOWN", "", None) and name in KNOWN:
        spdx, first_line = KNOWN[name]
        text = (item.get("LicenseText") or "").strip()
        return (f"{spdx} (from its licence file)", text.startswith(first_line))
    parts = [p.strip() for p in re.split(r";|\bAND\b|\bOR\b|\bWITH\b", stated)
             if p.strip(" ()") and p.strip() not in QUALIFIERS]
    return stated, bool(parts) and all(p in OSI_APPROVED or p.strip("()") in OSI_APPROVED for p in parts)


def licences(out: Path | None) -> int:
    runtime, dev = pins(RUNTIME), pins(DEV)
    found = installed_licences(sorted(dev))
    rows, refused = [], []
    for name, version in sorted(dev.items()):
        stated, ok = judge(name, found.get(name))
        use = "runtime" if name in runtime else "dev"
        rows.append(f"| {name} | {version} | {use} | {stated} | {'yes' if ok else '**NO**'} |")
        if not ok:
            refused.append(f"{name} {version}: {stated}")
    table = "\n".join([
        "# Licences of desk's dependencies", "",
        "Every package pinned in `requirements/runtime.txt` (what desk runs with) and `requirements/dev.txt`",
        "(what tests and releases use), with the licence its metadata states. Made by `make licences`,",
        "which fails when any is not OSI-approved. desk itself is MIT ([LICENSE](../../LICENSE)).", "",
        "| package | version | used for | licence | OSI-approved |", "| --- | --- | --- | --- | --- |",
        *rows, ""])
    if out:
        out.write_text(table, encoding="utf-8")
        print(f"{out}: {len(rows)} packages, {len(refused)} refused")
    else:
        print(table)
    for line in refused:
        print(f"not OSI-approved (or unknown): {line}", file=sys.stderr)
    return 1 if refused else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("sbom", "licences") and len(argv) <= 2:
        out = Path(argv[1]).resolve() if len(argv) == 2 else None
        if argv[0] == "sbom":
            sbom(out or ROOT / "sbom.cdx.json")
            return 0
        return licences(out)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
