"""Neo4j smoke test through the official driver: auth, a uniqueness constraint, MERGE, MATCH."""

from __future__ import annotations

import uuid

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ConstraintError

from hindsight.settings import Settings

pytestmark = pytest.mark.servers("neo4j")


def test_constraint_merge_and_match(settings: Settings) -> None:
    label = f"Smoke{uuid.uuid4().hex[:8]}"
    auth = (settings.neo4j_user, settings.neo4j_password)
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        driver.verify_connectivity()
        try:
            driver.execute_query(
                f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS "
                f"FOR (n:{label}) REQUIRE n.id IS UNIQUE"
            )
            rows = [{"id": f"c{i}", "friend": f"c{(i + 1) % 100}"} for i in range(100)]
            for _ in range(2):  # MERGE twice: still one node per id
                driver.execute_query(
                    f"UNWIND $rows AS row MERGE (a:{label} {{id: row.id}}) "
                    f"MERGE (b:{label} {{id: row.friend}}) MERGE (a)-[:KNOWS]->(b)",
                    rows=rows,
                )
            records, _, _ = driver.execute_query(
                f"MATCH (a:{label})-[:KNOWS]->(b:{label}) RETURN count(DISTINCT a) AS nodes, "
                f"count(*) AS rels"
            )
            assert (records[0]["nodes"], records[0]["rels"]) == (100, 100)
            records, _, _ = driver.execute_query(
                f"MATCH (:{label} {{id: 'c41'}})-[:KNOWS]->(b) RETURN b.id AS id"
            )
            assert [r["id"] for r in records] == ["c42"]
            with pytest.raises(ConstraintError):
                driver.execute_query(f"CREATE (:{label} {{id: 'c1'}})")
        finally:
            driver.execute_query(f"MATCH (n:{label}) DETACH DELETE n")
            driver.execute_query(f"DROP CONSTRAINT {label.lower()}_id IF EXISTS")


def test_authentication_is_on(settings: Settings) -> None:
    wrong = (settings.neo4j_user, "not-the-password")
    with GraphDatabase.driver(settings.neo4j_uri, auth=wrong) as driver, pytest.raises(AuthError):
        driver.verify_connectivity()
