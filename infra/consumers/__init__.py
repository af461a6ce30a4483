"""The consumer runtime: how projectors, the relay, sagas and notifiers consume events."""
