"""Importing a help desk's history (Zendesk, Freshdesk, Help Scout) through the provider's documented export
and REST APIs: `threadline import zendesk|freshdesk|helpscout` (docs/migration.md)."""
