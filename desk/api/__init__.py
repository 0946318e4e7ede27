"""The council-facing read-only JSON API (`/api/v1/...`), an adapter beside the Slack one."""
