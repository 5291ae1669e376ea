"""Advocacy: advocates, asks, rewards and the pool of candidates."""
