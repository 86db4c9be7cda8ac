"""Test helpers: forms with CSRF tokens, a scriptable SMTP server, service checks."""
