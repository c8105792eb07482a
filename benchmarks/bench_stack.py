"""How long the local stack takes to start, from stopped and when already up, and what it holds.

`make up` is the first thing a user waits for. From a stopped stack (server jars already
installed: downloading them depends on the network, not on the project) it times `stack.up`
until every server answers, then, after `--settle` seconds at rest, sums each server's
resident memory (the process and its children), then times `stack.up` again (every server
already up: what each later `make up` costs). It refuses to run while any server is up, so it
never stops what someone else started: `make bench-stack` stops the stack first. The stack is
left running. Figures go to `$HINDSIGHT_HOME/bench/stack.json`.
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table

from entrypoints.figures import write
from hindsight.settings import get_settings
from localstack import process, stack


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--settle", type=float, default=30.0, help="seconds at rest before memory")
    args = p.parse_args()
    s = get_settings()
    console = Console()
    running = [server.name for server in stack.servers(s) if server.running()]
    if running:
        console.print(f"[red]up already:[/] {', '.join(running)}; stop the stack first (make down)")
        sys.exit(2)
    stack.install(s, progress=lambda _m: None)
    t0 = time.monotonic()
    stack.up(s, progress=console.print)
    cold_s = time.monotonic() - t0
    time.sleep(args.settle)
    rss: dict[str, float] = {}
    for server in stack.servers(s):
        record = process.read_pid(server.pid_file)
        mib = process.rss_mib(record.pid) if record else None
        rss[server.name] = round(mib or 0.0)
    t0 = time.monotonic()
    stack.up(s, progress=lambda _m: None)
    again_s = time.monotonic() - t0
    table = Table(title="local stack: start-up and memory at rest")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_row("up from stopped (jars installed)", f"{cold_s:.1f} s")
    table.add_row("up again (all up)", f"{again_s:.1f} s")
    for name, mib in rss.items():
        table.add_row(f"memory at rest: {name}", f"{mib:,.0f} MiB")
    table.add_row("memory at rest: all servers", f"{sum(rss.values()) / 1024:.2f} GiB")
    console.print(table)
    figures = {"up_cold_s": round(cold_s, 1), "up_again_s": round(again_s, 1),
               "rss_mib": rss, "rss_total_gib": round(sum(rss.values()) / 1024, 2)}  # fmt: skip
    write(s.home, "stack", {"servers": len(rss), "settle_s": args.settle}, figures)


if __name__ == "__main__":
    main()
