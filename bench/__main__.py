"""`python -m bench`: every benchmark in turn."""

from bench import console_at_scale

console_at_scale.main()
