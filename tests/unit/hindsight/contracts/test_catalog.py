from __future__ import annotations

import json
from pathlib import Path

from hindsight.contracts.catalog import render_index, write_catalog
from hindsight.contracts.model import default_contracts
from hindsight.contracts.quality import NOT_MEASURED, evaluate_all, route
from hindsight.contracts.validator import Validator
from tests.unit.hindsight.contracts.scenario import envelopes

CONTRACTS = default_contracts()


def test_index_lists_products_owners_ports_schemas_and_pii() -> None:
    html = render_index(CONTRACTS)
    for c in CONTRACTS.values():
        assert f'id="{c.domain}"' in html and str(c.owner) in html
    assert "hindsight.orders.events" in html and "hindsight.dlq" in html
    assert "index <code>products</code>" in html and "label <code>:Category</code>" in html
    assert "relationship <code>[:IN_CATEGORY]</code>" in html
    assert "table <code>order_list</code>" in html
    assert '<td class="pii">pii &rarr; elasticsearch, postgres</td>' in html  # customer name
    assert '<td class="pii">pii &rarr; no read model</td>' in html  # email, street
    assert "no results yet" in html


def test_catalog_shows_the_latest_quality_results(tmp_path: Path) -> None:
    reports = evaluate_all(CONTRACTS, route(envelopes(), CONTRACTS), Validator(CONTRACTS))
    results = tmp_path / "quality.json"
    results.write_text(
        json.dumps(
            {"at": "2024-05-01T12:00:00Z", "products": [r.to_dict() for r in reports]}, default=str
        )
    )
    index = write_catalog(CONTRACTS, tmp_path / "out", results, detail_pages=False)
    html = index.read_text()
    assert "2024-05-01T12:00:00Z" in html
    assert "order_total_adds_up" in html and "100.00 % of 9" in html
    assert NOT_MEASURED in html
