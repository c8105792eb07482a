"""Semantic and hybrid search find what paraphrased queries mean, where words do not: measured
on the labelled set over a real index of generated products (the benchmark's own code)."""

from __future__ import annotations

import pytest

from benchmarks.search_quality import Labelled, catalogue, evaluate, labelled_set
from hindsight.settings import Settings

pytestmark = pytest.mark.servers("elasticsearch")


def test_semantic_and_hybrid_beat_bm25_on_recall_at_5_over_the_paraphrases(
    settings: Settings,
) -> None:
    queries = labelled_set()
    assert len(queries) >= 30
    with catalogue(settings, 480) as (es, prefix, docs):
        assert len(docs) == 480 and all("embedding" in d for d in docs)
        recall = {m: evaluate(es, prefix, docs, queries, m)["recall_at_5"]
                  for m in ("bm25", "semantic", "hybrid")}  # fmt: skip
    assert recall["semantic"] > recall["bm25"] + 0.2, recall
    assert recall["hybrid"] > recall["bm25"] + 0.2, recall


def test_a_name_typed_as_it_is_is_found_in_every_mode(settings: Settings) -> None:
    names = [Labelled(kind, (kind,)) for kind in ("kettle", "chess set", "trail map")]
    with catalogue(settings, 240) as (es, prefix, docs):
        for mode in ("bm25", "semantic", "hybrid"):
            assert evaluate(es, prefix, docs, names, mode)["recall_at_5"] == 1.0, mode
