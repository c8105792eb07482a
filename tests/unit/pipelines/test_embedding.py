"""The embedding a projection renders: offline, deterministic, unit length, meaningful."""

import math

from pipelines import embedding


def test_a_text_embeds_to_a_unit_vector_of_the_models_dimension() -> None:
    v = embedding.embed("stainless steel stock pot")
    assert v is not None and len(v) == embedding.DIMS
    assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-4)


def test_the_same_text_gives_the_same_numbers_whatever_its_spacing_or_case() -> None:
    assert embedding.embed("Cast  Iron Pan") == embedding.embed("cast iron pan")
    assert embedding.embed("cast iron pan") != embedding.embed("desk lamp")


def _cos(a: list[float] | None, b: list[float] | None) -> float:
    assert a is not None and b is not None
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_a_paraphrase_is_nearer_its_product_than_an_unrelated_one() -> None:
    query = embedding.embed("light for reading at night")
    assert _cos(query, embedding.embed("desk lamp")) > _cos(query, embedding.embed("chess set"))


def test_a_text_without_any_known_token_has_no_vector() -> None:
    assert embedding.embed("") is None
