"""The domain as plain functions over a SQLAlchemy session, tested without a request."""
