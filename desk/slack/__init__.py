"""The Slack adapter: Bolt wiring, thin listeners, pure Block Kit builders. Imports services, never scheduling."""
