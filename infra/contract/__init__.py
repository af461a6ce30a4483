"""The contract for analytics consumers: JSON Schemas and an AsyncAPI 3.0 document.

Both are generated from the event classes and the envelope (`slotwise contract
generate`) and committed under docs/; a test fails when they drift.
"""
