"""The report tests drive the real web process, as the Slack tests do: the same fixtures."""

from tests.slack.conftest import desk, stand_in  # noqa: F401 (fixtures, found by name)
