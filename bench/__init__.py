"""pager's benchmarks: `python -m bench [--quick] [--only NAME ...]` (or `make bench`).

Each benchmark runs the daemon as its own process (`python -m pager serve`, or
a bare aiohttp baseline server) and drives it from this process over loopback,
so the load generator and the daemon never share an event loop. Every figure
is printed next to a baseline measured in the same run, as a ratio, with the
spread over several runs. Load generators, fakes and daemons bind 127.0.0.1
only, are bounded in count and time, and are stopped when a benchmark ends.
"""
