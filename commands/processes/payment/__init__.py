"""The payment process manager: its reactions, rules, timers, checkout and reconcile use case.

It talks to the outside world only through the ports beside it (`provider`,
`ports`); the Stripe client, the task table and the worker loop are adapters
in `infra.payments`.
"""
