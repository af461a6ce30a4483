"""Adapters of the webhook process manager: its SQL tables, the secret store, the HTTP sender."""
