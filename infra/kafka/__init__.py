"""Kafka adapters: topics, clients, messages, the relay and the projector workers."""
