"""Issue 12, finding 4: a council removed from the registry loses its data access.

A real `desk serve --http` and the CLI, as an operator uses them. Before the fix, after `desk playbooks
sync` marked a council inactive, its API tokens still read its tickets and its signed report links still
opened. Now the sync revokes its tokens and records that on the council's own event chain, and both the
API and the report page refuse the council's credentials with 403 saying why; other councils are untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.processes import desk_cli
from tests.security.frontdoor import Served, served


def cli(desk: Served, *args: str) -> str:
    done = desk_cli(desk.env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def token_for(desk: Served, council: str) -> str:
    return json.loads(cli(desk, "tokens", "create", "--council", council, "--name", "Power BI", "--json"))["token"]


def api(desk: Served, token: str, path: str = "/api/v1/tickets") -> tuple[int, dict]:
    status, body, _ = desk.get(path, headers={"Authorization": f"Bearer {token}"})
    return status, json.loads(body)


def report(desk: Served, link: str) -> tuple[int, str]:
    path = link.split("://", 1)[1].split("/", 1)[1]
    status, body, _ = desk.get("/" + path)
    return status, body.decode()


def drop_council(playbooks: Path, council: str) -> None:
    registry = playbooks / "councils.yaml"
    document = yaml.safe_load(registry.read_text())
    document["councils"] = [c for c in document["councils"] if c["id"] != council]
    registry.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_council_dropped_from_the_registry_loses_its_tokens_and_report_links(database_url: str,
                                                                                tmp_path: Path) -> None:
    with served(database_url, tmp_path) as desk:
        cli(desk, "tickets", "open", "--council", "fife", "--title", "Council tax direct debits failed")
        fife, cherwell = token_for(desk, "fife"), token_for(desk, "cherwell")
        fife_link = cli(desk, "report", "link", "--from", "2026-11-01", "--to", "2026-11-30",
                        "--council", "fife").strip()
        cherwell_link = cli(desk, "report", "link", "--from", "2026-11-01", "--to", "2026-11-30",
                            "--council", "cherwell").strip()
        status, answer = api(desk, fife)
        assert status == 200 and [t["ref"] for t in answer["tickets"]] == ["FIFE-1"]  # while Fife is served
        assert report(desk, fife_link)[0] == 200

        drop_council(desk.playbooks, "fife")
        synced = json.loads(cli(desk, "playbooks", "sync", "--json"))
        assert synced["councils_deactivated"] == ["fife"]

        status, answer = api(desk, fife)
        assert status == 403 and answer["error"] == "council_inactive", answer
        assert "fife" in answer["message"] and "no longer served" in answer["message"]
        status, page = report(desk, fife_link)
        assert status == 403 and "no longer serves" in page
        # the other councils keep theirs
        assert api(desk, cherwell)[0] == 200 and report(desk, cherwell_link)[0] == 200

        # the token was revoked, not just refused, and the council's chain says so and still verifies
        tokens = json.loads(cli(desk, "tokens", "list", "--council", "fife", "--json"))
        assert [t["revoked_at"] is not None for t in tokens] == [True]
        chain = [json.loads(line) for line in cli(desk, "audit", "export", "--council", "fife").splitlines()]
        events = [line for line in chain if line["record"] == "audit_event"]
        assert [e["ticket"] for e in events[:-1]] and all(e["ticket"] == "FIFE-1" for e in events[:-1])
        assert events[-1]["type"] == "council_deactivated" and events[-1]["ticket"] == ""
        assert events[-1]["data"]["api_tokens_revoked"] == [f"{tokens[0]['id']} {tokens[0]['prefix']}…"]
        verified = json.loads(cli(desk, "audit", "verify", "--council", "fife", "--json"))
        assert verified == [{"council": "fife", "events": len(events), "ok": True, "broken_at": None, "reason": None}]

        # and no new token is handed to a council desk no longer serves
        refused = desk_cli(desk.env, "tokens", "create", "--council", "fife")
        assert refused.returncode != 0 and "inactive" in refused.stderr
