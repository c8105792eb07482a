"""The domain's generated traffic written through the HTTP service and through the store.

`hindsight generate` is how a user fills the platform; this measures both of its paths on a
fresh SQLite store of their own (under `$HINDSIGHT_HOME/bench/load-work`, so the deployment's
store is untouched): `--via http` (one command per request to a service this benchmark starts
on a free port, as `make serve` would) and `--via store` (batches of `--batch` commands, one
transaction each). Figures go to `$HINDSIGHT_HOME/bench/load.json`.

    .venv/bin/python -m benchmarks.bench_load [--http-events 10000] [--store-events 200000]
"""

from __future__ import annotations

import argparse
import os
import socket

from rich.console import Console
from rich.table import Table

from benchmarks import fresh
from entrypoints import background, bootstrap, workload
from entrypoints.figures import write
from hindsight.settings import Settings, get_settings


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _fresh(base: Settings, name: str, **changes: object) -> Settings:
    home = fresh.empty_home(base, "load-work", name)
    return base.model_copy(update={"home": home, "eventstore_backend": "sqlite", **changes})


def via_http(base: Settings, events: int, seed: int) -> workload.WorkloadStats:
    s = _fresh(base, "http", service_port=_free_port(base.host))
    env = {
        **os.environ,
        **s.namespace_env(),
        "HINDSIGHT_HOME": str(s.home),
        "HINDSIGHT_EVENTSTORE_BACKEND": "sqlite",
        "HINDSIGHT_SERVICE_PORT": str(s.service_port),
    }
    service = background.service(s)
    service.start(s, env=env)
    try:
        domain = bootstrap.load_domain(s.domain)
        assert domain.workload is not None, f"domain {domain.name} has no workload generator"
        return workload.run_http(s.service_url, domain, domain.workload(seed, events), events)
    finally:
        service.stop(s)


def via_store(base: Settings, events: int, seed: int, batch: int) -> workload.WorkloadStats:
    return fresh.generated(_fresh(base, "store"), events, seed, batch)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--http-events", type=int, default=10_000)
    p.add_argument("--store-events", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=500, help="commands per transaction via store")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    base = get_settings()
    console = Console()
    with console.status("commands through the HTTP service"):
        http = via_http(base, args.http_events, args.seed)
    with console.status("commands in batches through the store"):
        store = via_store(base, args.store_events, args.seed, args.batch)
    table = Table(title=f"generated traffic of {base.domain} into a fresh SQLite store")
    for col in ("path", "commands", "events", "seconds", "events/s"):
        table.add_column(col, justify="left" if col == "path" else "right")
    runs = {"http": http, f"store (batches of {args.batch})": store}
    for name, st in runs.items():
        table.add_row(name, f"{st.commands:,}", f"{st.events:,}", f"{st.seconds:.1f}",
                      f"{st.events_per_s:,.0f}")  # fmt: skip
    console.print(table)
    figures = {
        key: {
            "commands": st.commands,
            "events": st.events,
            "seconds": round(st.seconds, 2),
            "events_per_s": round(st.events_per_s),
        }  # fmt: skip
        for key, st in (("http", http), ("store", store))
    }
    n = {"http_events": args.http_events, "store_events": args.store_events,
         "batch": args.batch, "seed": args.seed, "domain": base.domain}  # fmt: skip
    write(base.home, "load", n, figures)


if __name__ == "__main__":
    main()
