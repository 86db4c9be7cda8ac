"""`python -m bench`: every benchmark in turn (quick sizes; BENCH_FULL=1 for full ones)."""

from bench import console_at_scale, export, pipeline, routing_alone

for benchmark in (pipeline, routing_alone, export, console_at_scale):
    benchmark.main()
