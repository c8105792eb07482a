"""Search quality and latency per mode (bm25, semantic, hybrid) on a generated catalogue.

    .venv/bin/python -m benchmarks.bench_search [--products 960] [--repeats 20]
    (make bench-search)

recall@5 and nDCG@5 over the labelled paraphrase set (`benchmarks.search_quality`), and the
latency of one query through `search_products` (the query's embedding included), p50 and p99
over every query of the set run `--repeats` times. The figures go to
`$HINDSIGHT_HOME/bench/search.json` and the README's table (`make bench-report`).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from benchmarks.search_quality import catalogue, evaluate, labelled_set
from commerce.read.search import HYBRID_KNN_BOOST, MODES
from entrypoints.figures import write
from hindsight.settings import get_settings
from pipelines import embedding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=960)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    settings = get_settings()
    console = Console()
    queries = labelled_set()
    results: dict[str, dict[str, object]] = {}
    console.print(f"a catalogue of {args.products:,} products, projected and indexed")
    with catalogue(settings, args.products) as (es, prefix, docs):
        for mode in MODES:
            with console.status(f"{len(queries)} queries x {args.repeats} in {mode} mode"):
                results[mode] = evaluate(es, prefix, docs, queries, mode, args.repeats)
    table = Table(title=f"{len(queries)} paraphrased queries over {len(docs):,} products")
    for col in ("mode", "recall@5", "nDCG@5", "p50 ms", "p99 ms", "queries missed"):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for mode, r in results.items():
        table.add_row(mode, f"{r['recall_at_5']:.3f}", f"{r['ndcg_at_5']:.3f}", f"{r['p50_ms']}",
                      f"{r['p99_ms']}", f"{len(r['missed'])}")  # type: ignore[arg-type]  # fmt: skip
    console.print(table)
    bm25 = results["bm25"]["recall_at_5"]
    for mode in ("semantic", "hybrid"):
        gain = results[mode]["recall_at_5"]
        console.print(f"{mode} recall@5 {gain} vs bm25 {bm25}")
    path = write(
        settings.home,
        "search",
        {"products": len(docs), "queries": len(queries), "repeats": args.repeats},
        {"model": embedding.MODEL_ID, "hybrid_knn_boost": HYBRID_KNN_BOOST, "modes": results},
    )
    console.print(f"figures: {path}")


if __name__ == "__main__":
    main()
