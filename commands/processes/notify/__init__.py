"""The notification process manager: which events tell whom what, and when reminders go out."""
