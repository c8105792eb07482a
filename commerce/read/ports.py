"""Commerce's output ports: its event topics, index aliases, graph labels and relationships,
and SQL tables.

One registry the commerce projections, read models and queries take their names from, and
the governance linter holds the commerce contracts to (with the platform's own ports,
`hindsight.topics.platform_ports`): every port a contract names exists in the code, and every
port the code writes is owned by exactly one contract. Adding a read model is adding its port
here *and* to the owning domain's contract, or `hindsight contracts lint` fails.
"""

from __future__ import annotations

from hindsight.contracts.ports import Port
from hindsight.topics import platform_ports, topic_name

DOMAINS = ("customers", "catalog", "inventory", "orders", "billing")

# Elasticsearch: the aliases queries use; concrete indices are `<alias>-<generation>` so that
# a rebuild can be swapped in behind the alias without downtime.
ES_ORDERS = "orders"
ES_CUSTOMERS = "customers"
ES_PRODUCTS = "products"
ES_ALIASES = (ES_ORDERS, ES_CUSTOMERS, ES_PRODUCTS)

# Neo4j:
# (:Customer)-[:PLACED]->(:Order)-[:CONTAINS]->(:Product)-[:IN_CATEGORY]->(:Category)
# (:Customer)-[:LIVES_IN]->(:City)
NEO4J_LABELS = ("Customer", "Order", "Product", "Category", "City")
NEO4J_RELATIONSHIPS = ("PLACED", "CONTAINS", "IN_CATEGORY", "LIVES_IN")

# PostgreSQL: the tables a UI pages through (schema settings.postgres_read_schema)
PG_ORDER_LIST = "order_list"
PG_CUSTOMER_SUMMARIES = "customer_summaries"
PG_TABLES = (PG_ORDER_LIST, PG_CUSTOMER_SUMMARIES)

PORTS: frozenset[Port] = (
    frozenset(
        {Port("kafka", topic_name(d)) for d in DOMAINS}
        | {Port("elasticsearch", a) for a in ES_ALIASES}
        | {Port("neo4j-label", x) for x in NEO4J_LABELS}
        | {Port("neo4j-relationship", x) for x in NEO4J_RELATIONSHIPS}
        | {Port("postgres-table", x) for x in PG_TABLES}
    )
    | platform_ports()
)
