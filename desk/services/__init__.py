"""Use cases: what desk does, over the domain and the database, with no Slack or scheduler code."""
