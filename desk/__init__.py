"""desk: an open-source service desk that lives in Slack."""

__version__ = "0.1.0"
