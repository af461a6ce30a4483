"""Adapters of the waitlist process manager: its tables, task runner and worker loop."""
