"""Adapters of the notification process manager: outbox table, SMTP, SMS, directory."""
