"""The HTTP service over a real (embedded SQLite) store: answers, errors, idempotency, races."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce import COMMANDS
from entrypoints import bootstrap
from entrypoints.service.app import create_app
from hindsight.settings import Settings

ADA = {
    "customer_id": "c1",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "street": "1 Main St",
    "city": "Lyon",
    "country": "FR",
}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    return TestClient(create_app(handler))


def shop(client: TestClient) -> None:
    assert client.post("/customers/register-customer", json=ADA).status_code == 200
    product = {"product_id": "p1", "name": "Kettle", "category": "kitchen", "price_cents": 2500}
    assert client.post("/catalog/create-product", json=product).status_code == 200
    stock = {"product_id": "p1", "quantity": 10}
    assert client.post("/inventory/receive-stock", json=stock).status_code == 200


def place(client: TestClient, order_id: str = "o1", qty: int = 2) -> Any:
    return client.post(
        "/orders/place-order",
        json={
            "order_id": order_id,
            "customer_id": "c1",
            "lines": [{"product_id": "p1", "quantity": qty, "unit_price_cents": 2500}],
        },
    )


def test_openapi_has_one_endpoint_per_command(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    posts = [p for p, ops in spec["paths"].items() if "post" in ops]
    assert len(posts) == len(COMMANDS)
    assert "/orders/place-order" in posts
    assert "PlaceOrder" in spec["components"]["schemas"]


def test_success_returns_the_new_version_and_position(client: TestClient) -> None:
    shop(client)
    r = place(client)
    assert r.status_code == 200
    body = r.json()
    assert (body["aggregate_type"], body["aggregate_id"], body["version"]) == ("order", "o1", 1)
    assert body["position"] == max(e["position"] for e in body["events"])
    assert {e["event_type"] for e in body["events"]} == {"StockReserved", "OrderPlaced"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ADA, "email": "not-an-email"}, "email"),
        ({k: v for k, v in ADA.items() if k != "name"}, "name"),
        ({**ADA, "customer_id": 12}, "customer_id"),
        ({**ADA, "shoe_size": 44}, "shoe_size"),
        ({**ADA, "country": "France"}, "country"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    r = client.post("/customers/register-customer", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field
    assert r.json()["reason"]


def test_malformed_bodies_are_422(client: TestClient) -> None:
    for raw in (b"{not json", b"[1, 2]", b"", b"\xff\xfe", b"null"):
        r = client.post("/customers/register-customer", content=raw)
        assert r.status_code == 422, raw
        assert r.json()["field"] == "body"


def test_order_line_errors_name_the_nested_field(client: TestClient) -> None:
    shop(client)
    r = client.post(
        "/orders/place-order",
        json={
            "order_id": "o1",
            "customer_id": "c1",
            "lines": [{"product_id": "p1", "quantity": 0, "unit_price_cents": 2500}],
        },
    )
    assert r.status_code == 422
    assert r.json()["field"] == "lines[0].quantity"


def test_unknown_aggregate_is_404(client: TestClient) -> None:
    assert client.post("/orders/pay-order", json={"order_id": "nope"}).status_code == 404
    assert client.get("/aggregates/order/nope").status_code == 404
    assert client.get("/aggregates/order/nope/events").status_code == 404
    assert client.get("/aggregates/spaceship/x").status_code == 404


def test_refused_command_is_409_with_its_code(client: TestClient) -> None:
    shop(client)
    place(client)
    assert client.post("/orders/pay-order", json={"order_id": "o1"}).status_code == 200
    r = client.post("/orders/pay-order", json={"order_id": "o1"})
    assert r.status_code == 409
    assert r.json()["error"] == "order_already_paid"
    assert "o1" in r.json()["message"]


def test_stale_expected_version_is_409(client: TestClient) -> None:
    shop(client)
    move = {"customer_id": "c1", "street": "2 Rue", "city": "Paris", "country": "FR"}
    r = client.post("/customers/change-customer-address", json=move, headers={"If-Match": "7"})
    assert r.status_code == 409
    assert r.json()["error"] == "version_conflict"
    r = client.post("/customers/change-customer-address", json=move, headers={"If-Match": "1"})
    assert r.status_code == 200 and r.json()["version"] == 2


def test_idempotency_key_retry_gives_the_same_answer_and_one_set_of_events(
    client: TestClient,
) -> None:
    shop(client)
    first = place(client).json()
    headers = {"Idempotency-Key": "pay-o1-attempt"}
    a = client.post("/orders/pay-order", json={"order_id": "o1"}, headers=headers)
    b = client.post("/orders/pay-order", json={"order_id": "o1"}, headers=headers)
    assert a.status_code == b.status_code == 200
    assert a.json()["events"] == b.json()["events"]
    # the retry says it wrote nothing new: a load generator counts only what was written
    assert (a.json()["replayed"], b.json()["replayed"]) == (False, True)
    history = client.get("/aggregates/order/o1/events").json()["events"]
    assert [e["event_type"] for e in history] == ["OrderPlaced", "OrderPaid"]
    assert first["version"] == 1


def test_two_concurrent_writers_on_one_stream_one_wins_one_gets_409(client: TestClient) -> None:
    shop(client)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def move(city: str) -> None:
        barrier.wait()
        body = {"customer_id": "c1", "street": "3 Way", "city": city, "country": "FR"}
        r = client.post("/customers/change-customer-address", json=body, headers={"If-Match": "1"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=move, args=(c,)) for c in ("Paris", "Nice")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert client.get("/aggregates/customer/c1").json()["version"] == 2


def test_text_no_store_can_keep_is_422_naming_the_field(client: TestClient) -> None:
    """A NUL (PostgreSQL cannot store it) or a lone surrogate (not Unicode text): refused
    before anything is decided, on every backend alike."""
    r = client.post("/customers/register-customer", json={**ADA, "name": "Ada\x00"})
    assert r.status_code == 422
    assert (r.json()["error"], r.json()["field"]) == ("unstorable_value", "name")
    raw = json.dumps({**ADA, "city": "\ud800"})  # ensure_ascii: the surrogate travels escaped
    r = client.post("/customers/register-customer", content=raw)
    assert (r.status_code, r.json()["field"]) == (422, "city")
    assert client.get("/aggregates/customer/c1").status_code == 404  # nothing was written
    r = client.get("/aggregates/customer/c%001")
    assert (r.status_code, r.json()["field"]) == (422, "aggregate_id")
    assert client.get("/aggregates/customer/c%001/events").status_code == 422


def test_numbers_no_read_model_holds_and_deep_nesting_are_422(client: TestClient) -> None:
    product = {"product_id": "p1", "name": "Kettle", "category": "kitchen", "price_cents": 2**64}
    r = client.post("/catalog/create-product", json=product)
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422,
        "unstorable_value",
        "price_cents",
    )
    r = client.post("/catalog/create-product", content=b'{"price_cents": NaN}')
    assert (r.status_code, r.json()["field"]) == (422, "price_cents")
    r = client.post("/customers/register-customer", content=b"[" * 100_000 + b"]" * 100_000)
    assert (r.status_code, r.json()["reason"]) == (422, "nested too deeply")


def test_time_travel_reads_the_state_as_of_a_timestamp(client: TestClient) -> None:
    shop(client)
    place(client)
    placed_at = client.get("/aggregates/order/o1/events").json()["events"][0]["recorded_at"]
    client.post("/orders/pay-order", json={"order_id": "o1"})
    now = client.get("/aggregates/order/o1").json()
    then = client.get("/aggregates/order/o1", params={"as_of": placed_at}).json()
    assert now["state"]["status"] == "paid" and now["version"] == 2
    assert then["state"]["status"] == "placed" and then["version"] == 1
    assert client.get("/aggregates/order/o1", params={"version": 1}).json()["version"] == 1
    r = client.get("/aggregates/order/o1", params={"as_of": "2000-01-01T00:00:00Z"})
    assert r.status_code == 404
    assert client.get("/aggregates/order/o1", params={"as_of": "yesterday"}).status_code == 422


# any code point, NUL and lone surrogates included (st.text() leaves surrogates out)
TEXT = st.text(
    st.characters(codec=None, exclude_categories=()) | st.sampled_from("\x00\ud800"), max_size=20
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=12,
)
FIELDS = [
    "customer_id",
    "order_id",
    "product_id",
    "name",
    "email",
    "lines",
    "quantity",
    "price_cents",
    "amount_cents",
    "street",
    "city",
    "country",
    "category",
    "reason",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/customers/register-customer",
            "/orders/place-order",
            "/orders/pay-order",
            "/inventory/receive-stock",
            "/catalog/change-price",
            "/orders/cancel-order",
        ]
    ),
    body=st.one_of(
        st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=8),
        JSON,
        st.binary(max_size=40),
    ),
    if_match=st.one_of(st.none(), st.text(max_size=6)),
)
def test_no_input_however_malformed_gives_a_500(
    client: TestClient, path: str, body: Any, if_match: str | None
) -> None:
    headers = {}
    if if_match is not None and if_match.isprintable() and if_match.isascii():
        headers["If-Match"] = if_match
    if isinstance(body, bytes):
        r = client.post(path, content=body, headers=headers)
    else:
        r = client.post(path, content=json.dumps(body), headers=headers)
    assert r.status_code in (200, 404, 409, 422), r.text


@pytest.mark.parametrize("path", ["/search/products", "/search/orders",
                                  "/graph/customers/c1/orders",
                                  "/graph/products/p1/bought-together",
                                  "/graph/customers/c1/similar"])  # fmt: skip
def test_an_unknown_replay_is_404_naming_at_and_the_complete_ones(
    tmp_path: Path, path: str
) -> None:
    s = Settings(home=tmp_path)
    client = TestClient(create_app(bootstrap.command_handler(s), settings=s))
    # answered before any read model is asked: no server is needed to refuse it
    r = client.get(path, params={"at": "nosuch"})
    assert r.status_code == 404
    body = r.json()
    assert body["field"] == "at" and body["error"] == "unknown_replay"
    assert "'nosuch'" in body["message"] and "complete: none" in body["message"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_their_assets_from_the_service_not_a_cdn(
    client: TestClient, page: str
) -> None:
    html = client.get(page)
    assert html.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
    assert assets, html.text[:500]
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 10_000, asset
    assert "cdn" not in html.text.lower()
