"""What the integrations keep: received Stripe events (idempotency) and import jobs."""
