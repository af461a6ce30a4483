"""Process managers: application code reacting to events through ports."""
