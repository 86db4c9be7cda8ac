"""Every email as an outbox row first: the messages built from ids, their delivery with
retries, and the SMTP connection the worker keeps."""
