"""Text embeddings for semantic search, computed inside a projection's render.

A vector read model is one more field of a document, so it must keep what every other field
keeps: the same bytes from the Flink job and from the reference projector (parity), from every
replay and every rebuild. Hence a model that is a pure function of its input and ships inside
its wheel: WordLlama's `l2_supercat` static token embeddings (MIT, 256 dimensions, 16 MB of
weights in the `wordllama` wheel), loaded with downloads disabled. A static model has no
attention, so it embeds in ~0.1 ms per text on one core (a transformer would cost the job
~100x that per product version) at the price of quality: it knows that a stock pot is for
pasta, not that "not for pasta" is the opposite; `make bench-search` measures what it buys.

Vectors are L2-normalised and rounded to 6 decimals: JSON carries them exactly (parity is
exact equality), the cosine they give differs from the float32 one by < 1e-5, and a 256-d vector
costs ~2.3 kB in a sink record. Rendering the same text again is a dictionary hit (a product
gets a new version with every stock move; its name rarely changes).

Changing `MODEL_ID` (or `DIMS`, or the rounding) changes every vector: it is a new version of
each projection that embeds (raise its `Projection.version`, then `hindsight rebuild`), and the
contracts and index mappings that record the model (`MODEL_ID` in their `_meta`) follow.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import wordllama

MODEL_ID = "wordllama-0.4.0/l2_supercat/256"
DIMS = 256
_DECIMALS = 6


@cache
def _model() -> Any:
    # The wheel keeps its tokenizer under `tokenizers/` while `load` looks for it in the package
    # under `tokenizer/`, then in `<cache_dir>/tokenizers/`: pointing the cache at the package
    # itself finds both files there, and nothing is fetched (`disable_download`).
    package = Path(wordllama.__file__).parent
    return wordllama.WordLlama.load(
        config="l2_supercat", dim=DIMS, cache_dir=package, disable_download=True
    )


@lru_cache(maxsize=65_536)
def _embedding(text: str) -> tuple[float, ...] | None:
    raw = _model().embed([text])[0]
    norm = math.sqrt(sum(float(x) * float(x) for x in raw))
    if norm == 0.0:  # no known token: no direction (a cosine index rejects a zero vector)
        return None
    return tuple(round(float(x) / norm, _DECIMALS) for x in raw)


def embed(text: str) -> list[float] | None:
    """The unit vector of `text` (None when the model knows none of its tokens)."""
    vector = _embedding(" ".join(text.split()).lower())
    return list(vector) if vector is not None else None


def dense_vector_mapping() -> dict[str, Any]:
    """The Elasticsearch field for `embed`'s vectors: cosine, an HNSW graph of float vectors
    (at 256 dimensions and catalogue sizes, quantising buys nothing and costs recall)."""
    return {
        "type": "dense_vector",
        "dims": DIMS,
        "similarity": "cosine",
        "index": True,
        "index_options": {"type": "hnsw"},
    }
