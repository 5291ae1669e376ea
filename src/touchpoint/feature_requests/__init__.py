"""Feature requests: asked by accounts, ranked by the revenue at stake."""
