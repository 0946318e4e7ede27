"""Pure domain: no database, Slack, scheduler or template imports, and no wall clock."""
