"""Domain events: an ordered, durable record of what changed in an account, for consumers to follow."""
