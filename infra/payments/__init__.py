"""Online payment's adapters: the Stripe client, the webhook check, the task table and worker.

The process manager itself (saga, actions, checkout, reconcile) is application
code in `commands.processes.payment`.
"""
