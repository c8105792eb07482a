"""The data-product catalog: one HTML page for people looking for data.

Per-contract detail pages come from datacontract-cli's own HTML export (the standard's view of
a contract, maintained upstream). The index page is Hindsight's: it lists every product with
its owner, output ports, event and read-model schemas (with classifications, so PII is visible
at a glance) and the latest `hindsight contracts test` results, which the upstream catalog
cannot know about.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from hindsight.contracts.model import Contract

_TEMPLATE = Path(__file__).with_name("catalog.html.j2")


def render_index(
    contracts: Mapping[str, Contract],
    results: Mapping[str, Mapping[str, Any]] | None = None,
    results_at: str | None = None,
    detail_links: Mapping[str, str] | None = None,
) -> str:
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    return env.from_string(_TEMPLATE.read_text(encoding="utf-8")).render(
        contracts=list(contracts.values()),
        results=dict(results or {}),
        results_at=results_at,
        detail_links=dict(detail_links or {}),
        now=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def load_results(path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The latest `contracts test` output ({domain: report dict}), if any was written."""
    if not path.exists():
        return {}, None
    doc = json.loads(path.read_text())
    return {r["domain"]: r for r in doc.get("products", [])}, doc.get("at")


def write_catalog(
    contracts: Mapping[str, Contract],
    output: Path,
    results_path: Path,
    *,
    detail_pages: bool = True,
    on_page: Callable[[str], None] | None = None,
) -> Path:
    """Write index.html (and, unless disabled, one upstream detail page per contract)."""
    from datacontract.data_contract import DataContract

    output.mkdir(parents=True, exist_ok=True)
    links: dict[str, str] = {}
    if detail_pages:
        for domain, c in contracts.items():
            if c.path is not None:
                html = DataContract(data_contract_file=str(c.path)).export(export_format="html")
                (output / f"{domain}.html").write_text(str(html), encoding="utf-8")
                links[domain] = f"{domain}.html"
            if on_page:
                on_page(domain)
    results, at = load_results(results_path)
    index = output / "index.html"
    index.write_text(render_index(contracts, results, at, links), encoding="utf-8")
    return index
