"""Thin, idempotent tasks: each takes ids, calls a service, and is safe to run twice."""
