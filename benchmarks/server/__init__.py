"""Server load harness: fasthttp against its peers, driven by wrk on loopback.

Run it with ``python -m benchmarks.server`` (``--help`` lists the options); ``README.md`` beside
this file explains what is measured and how. The package is laid out one concern per module:

- ``scenarios``: what is requested (paths, wrk options, Lua scripts) and what a correct answer is;
- ``servers``: how each server under test is started, found ready and killed;
- ``apps/``: the application each server runs, all answering the same routes identically;
- ``wrk``: one bounded wrk run and its parsed summary;
- ``procstat``: /proc readers (process tree, CPU ticks, RSS, sockets, CPU affinity);
- ``httpcheck``: a tiny HTTP/1.1 client for correctness checks and idle connections;
- ``memory``: RSS idle and per idle keep-alive connection;
- ``report``: statistics, the markdown tables, the chart and the machine description;
- ``install``: finding or installing the peers, wrk and matplotlib;
- ``run``: the command line and the schedule that ties the rest together.
"""
