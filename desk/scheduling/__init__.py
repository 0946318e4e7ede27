"""The worker: APScheduler jobs (sweep, dispatch, digests), declared in one explicit list. Imports services,
never the Slack adapter: the notifier arrives through the `Notifier` port."""
