"""Notifications: the outbox (written with the proposal) and the SMTP sender that drains it."""
