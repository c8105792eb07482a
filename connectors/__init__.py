"""Adapters to the outside servers (Kafka, Elasticsearch, Neo4j), behind the platform's ports."""
