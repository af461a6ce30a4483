"""Process managers: application code that reacts to events and sends commands."""
