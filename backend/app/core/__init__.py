"""Core: settings, logging, errors, Decimal rules, request context. Imports nothing of ours."""
