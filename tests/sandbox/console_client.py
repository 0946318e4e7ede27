"""A small client of the sandbox's JSON API (`/sandbox/api/`), the way a script would drive it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

PAPERCUT = "We cannot take card payments"


class ApiFailed(AssertionError):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


class SandboxApi:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def request(self, method: str, name: str, body: dict | None = None, query: str = "") -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/sandbox/api/{name}{query}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:
            raise ApiFailed(err.code, json.loads(err.read() or b"{}")) from None

    def get(self, name: str, query: str = "") -> Any:
        return self.request("GET", name, query=query)

    def post(self, endpoint: str, /, **body: Any) -> Any:
        return self.request("POST", endpoint, body)

    def messages(self, channel: str, viewer: str | None = None) -> list[dict]:
        return self.get("messages", f"?channel={channel}" + (f"&as={viewer}" if viewer else ""))

    def wait_for(self, channel: str, match, viewer: str | None = None, timeout: float = 20.0) -> dict:
        """The first message in `channel` for which `match(message)` is true, polling (desk works after acks)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages(channel, viewer) if match(m)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing matching in {channel}: {[m['text'][:60] for m in self.messages(channel)]}")
            time.sleep(0.2)

    def state(self) -> dict:
        return self.get("state")

    def someone(self, role: str, council: str | None = None) -> dict:
        return next(p for p in self.state()["people"] if p["role"] == role and (council is None or
                                                                                p["council"] == council))

    def channel_of(self, council: str | None) -> dict:
        return next(c for c in self.state()["channels"] if c["council"] == council)


def action_ids(message: dict) -> list[str]:
    return [e.get("action_id") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
