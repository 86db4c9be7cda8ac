"""`python -m bench`: every benchmark in turn (quick sizes; BENCH_FULL=1 for full ones)."""

from bench import (
    burst,
    console_at_scale,
    export,
    lead_indexes,
    lead_statements,
    pipeline,
    routing_alone,
    routing_scale,
)

for benchmark in (
    pipeline,
    routing_alone,
    routing_scale,
    burst,
    export,
    console_at_scale,
    lead_indexes,
    lead_statements,
):
    benchmark.main()
