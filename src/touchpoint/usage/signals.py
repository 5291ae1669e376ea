"""Signals the usage app sends, for apps that watch ingestion without usage knowing them (metrics)."""

from django.dispatch import Signal

# Sent after every tracking API call that got as far as storing: accepted, duplicates, rejected (ints).
batch_ingested = Signal()
