"""Persistence: engine, tables, queries. Imports the domain, never services or adapters."""
