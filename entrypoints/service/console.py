"""The console at `/`: the platform at a glance, one server-rendered page (no build step, no
script): the servers, the projection job, each read model's position and lag, freshness
against each data product's SLA, dead letters by reason, a search box and events/s lately.

Every probe has a short timeout and a server that does not answer is shown as down with the
reason, never an error page: the console is what a person opens when something is wrong.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from commerce.read import search
from connectors import clients
from connectors.kafka_sampling import sample_kafka
from entrypoints import cluster_job, generations
from entrypoints.formatting import money
from entrypoints.read_positions import EventLog, ReadModelPositions
from hindsight.settings import Settings
from hindsight.topics import dlq_topic

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["money"] = money
TIMEOUT_S = 2.0
SAMPLE_EVERY_S = 5.0
WINDOW_S = 600.0


@dataclass
class Probe:
    name: str
    up: bool
    detail: str
    link: str = ""


def _probe(name: str, link: str, check: Callable[[], str]) -> Probe:
    try:
        return Probe(name, True, check(), link)
    except Exception as err:  # noqa: BLE001 - down, for whatever reason: say which
        return Probe(name, False, f"{type(err).__name__}: {str(err)[:160]}", link)


def _flink(s: Settings, path: str) -> Any:
    with urllib.request.urlopen(f"{s.flink_url}{path}", timeout=TIMEOUT_S) as r:
        return json.loads(r.read())


def servers(s: Settings, es: Any, neo4j: Any) -> list[Probe]:
    def kafka() -> str:
        meta = clients.kafka_admin(s.kafka_bootstrap).list_topics(timeout=TIMEOUT_S)
        return f"{len(meta.brokers)} broker(s), {len(meta.topics)} topics"

    def elasticsearch() -> str:
        health = es.cluster.health(timeout=f"{TIMEOUT_S:.0f}s")
        return f"status {health['status']}, {health['active_shards']} shards"

    def graph() -> str:
        info = neo4j.get_server_info()
        return f"{info.agent}"

    def flink() -> str:
        o = _flink(s, "/overview")
        return (f"Flink {o['flink-version']}: {o['taskmanagers']} TaskManagers, "
                f"{o['slots-available']}/{o['slots-total']} slots free")  # fmt: skip

    def postgres() -> str:
        with psycopg.connect(s.postgres_dsn, connect_timeout=int(TIMEOUT_S)) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]

    return [
        _probe("Kafka", "", kafka),
        _probe("Elasticsearch", f"{s.elasticsearch_url}/_cat/indices?v", elasticsearch),
        _probe("Neo4j", s.neo4j_browser_url, graph),
        _probe("Flink", s.flink_url, flink),
        _probe("PostgreSQL", "", postgres),
    ]


def projection_job(s: Settings) -> dict[str, Any]:
    live = generations.live(s)
    try:
        jobs = cluster_job.running_jobs(live)
    except Exception as err:  # noqa: BLE001 - the cluster is down: the servers table says so
        return {"state": "unknown", "detail": str(err)[:160]}
    if not jobs:
        return {"state": "not running", "detail": "`make submit` starts it"}
    job = jobs[0]
    checkpoints = _flink(live, f"/jobs/{job['jid']}/checkpoints")
    latest = (checkpoints.get("latest") or {}).get("completed") or {}
    return {
        "state": job["state"],
        "name": job["name"],
        "link": f"{s.flink_url}/#/job/running/{job['jid']}/overview",
        "uptime_s": round(job.get("duration", 0) / 1000),
        "checkpoints": checkpoints["counts"]["completed"],
        "failed_checkpoints": checkpoints["counts"]["failed"],
        "last_checkpoint_ms": latest.get("end_to_end_duration"),
    }


def dead_letters(s: Settings, limit: int = 10_000) -> dict[str, Any]:
    """The latest dead letters on the deployment's topic, counted by reason (the text before
    its first colon: the kind, not each record's detail)."""
    topic = dlq_topic(s.kafka_topic_prefix)
    values = sample_kafka(s.kafka_bootstrap, {"dlq": topic}, limit, timeout=TIMEOUT_S)["dlq"]
    reasons = Counter(_reason(v, None) for v in values)
    return {"total": sum(reasons.values()), "reasons": reasons.most_common(10)}


def _reason(value: bytes | None, headers: Any) -> str:
    text = dict(headers or []).get("reason", b"").decode(errors="replace")
    if not text:
        try:
            text = str(json.loads(value or b"{}").get("reason", ""))
        except ValueError:
            text = ""
    return (text.split(":", 1)[0] or "unknown")[:80]


def freshness(s: Settings) -> dict[str, Any]:
    """The last `hindsight contracts test`'s freshness per read model against its SLA."""
    path = s.home / "contracts" / "quality.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"at": None, "rows": []}
    rows = [{"product": p["domain"], **f} for p in results.get("products", [])
            for f in p.get("freshness", [])]  # fmt: skip
    return {"at": results.get("at"), "rows": rows}


class Rates:
    """Events/s appended to the log and made visible in both stores, sampled every few
    seconds by a thread the first request starts, kept for the last ten minutes."""

    def __init__(self, positions: Callable[[], tuple[int, int]]) -> None:
        self.positions = positions
        self.samples: deque[tuple[float, int, int]] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="rates")
                self._thread.start()

    def _run(self) -> None:
        while True:
            self.sample()
            time.sleep(SAMPLE_EVERY_S)

    def sample(self) -> None:
        try:
            end, visible = self.positions()
        except Exception:  # noqa: BLE001 - a store away: no sample this time
            return
        now = time.time()
        with self._lock:
            self.samples.append((now, end, visible))
            while self.samples and self.samples[0][0] < now - WINDOW_S:
                self.samples.popleft()

    def chart(self, width: int = 640, height: int = 160) -> dict[str, Any]:
        """Two polylines (appended, visible) in SVG coordinates, and the latest rates."""
        with self._lock:
            points = list(self.samples)
        rates = [(t1, (e1 - e0) / (t1 - t0), (v1 - v0) / (t1 - t0))
                 for (t0, e0, v0), (t1, e1, v1) in zip(points, points[1:], strict=False)
                 if t1 > t0]  # fmt: skip
        if not rates:
            return {"appended": "", "visible": "", "top": 0, "now": None}
        top = max(1.0, *(max(a, v) for _, a, v in rates))
        t_end = rates[-1][0]

        def line(i: int) -> str:
            return " ".join(
                f"{width - (t_end - r[0]) / WINDOW_S * width:.1f},"
                f"{height - max(0.0, r[i]) / top * height:.1f}"
                for r in rates
            )

        return {"appended": line(1), "visible": line(2), "top": round(top),
                "now": (round(rates[-1][1]), round(rates[-1][2]))}  # fmt: skip


def console_router(settings: Settings, log: EventLog) -> APIRouter:
    router = APIRouter()
    es = cache(lambda: clients.elasticsearch(settings.elasticsearch_url,
                                             request_timeout_s=TIMEOUT_S))  # fmt: skip
    neo4j = cache(lambda: clients.neo4j_for(settings, connection_timeout=TIMEOUT_S))

    def positions() -> ReadModelPositions:
        return ReadModelPositions(generations.live(settings), log, es, neo4j)

    def log_and_visible() -> tuple[int, int]:
        end, stores = positions().status()
        return end, min(p.position for p in stores)

    rates = Rates(log_and_visible)

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def console(
        request: Request,
        q: str | None = Query(default=None, max_length=200),
        mode: search.SearchMode = "bm25",
    ) -> HTMLResponse:
        rates.start()
        rates.sample()
        try:
            end, stores = positions().status()
            read_models: dict[str, Any] = {"end": end, "stores": stores, "error": None}
        except Exception as err:  # noqa: BLE001 - shown on the page
            read_models = {"end": None, "stores": [], "error": str(err)[:200]}
        results, search_error = None, None
        if q:
            try:
                live = generations.live(settings, "elasticsearch")
                results = search.search_products(
                    es(), q, mode=mode, size=10, alias_prefix=live.es_alias_prefix
                )
            except Exception as err:  # noqa: BLE001 - shown beside the box
                search_error = str(err)[:200]
        context = {
            "settings": settings,
            "generation": _quietly(lambda: generations.live_generation(settings)),
            "servers": servers(settings, es(), neo4j()),
            "job": projection_job(settings),
            "read_models": read_models,
            "freshness": freshness(settings),
            "dead_letters": _quietly(lambda: dead_letters(settings))
            or {"total": None, "reasons": []},
            "chart": rates.chart(),
            "q": q or "",
            "mode": mode,
            "modes": search.MODES,
            "results": results,
            "search_error": search_error,
            "catalog": settings.home / "contracts" / "catalog" / "index.html",
        }
        return TEMPLATES.TemplateResponse(request, "console.html", context)

    return router


def _quietly(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001 - the page shows what it could read
        return None
