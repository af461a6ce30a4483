"""Online payment through Stripe: the provider adapter, webhooks, checkout and the payment saga."""
