"""Support: tickets, SLA policies in business hours, breaches and time to fix."""
