"""Live-room fan-out benchmark (issue 4). Run with ``make bench-room`` or
``python -m bench.room [--quick]``; see bench/room/run.py and docs/workshops-fanout.md."""
