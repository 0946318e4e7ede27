"""desk: an open-source service desk that lives in Slack.

`__version__` is the one place the version is written: pyproject.toml reads it (`dynamic`), `desk --version`
and `GET /healthz` show it, and CHANGELOG.md names each release by it.
"""

__version__ = "0.1.0"
