"""Presence: who is online, in Redis, crash-safe; a generic presence API for any topic."""
