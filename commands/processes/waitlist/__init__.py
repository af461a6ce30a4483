"""The waitlist process manager: offers freed seats to the line, and ends offers on time.

It reacts to events through the ports beside it (`ports`): its task table
(durable timers and sweeps) and its memory of who waits where. The tables,
the task runner and the worker loop are adapters in `infra.waitlist`.
"""
