# ruff: noqa: E501 - case tables keep one case per line, so each reads as a sentence
from __future__ import annotations

import pytest

from hindsight.contracts.expressions import RuleError, compile_rule

ORDER = {"data": {"total_cents": 30, "lines": [{"line_total_cents": 10}, {"line_total_cents": 20}]}}


def test_rules_read_the_envelope_including_inside_comprehensions() -> None:
    rule = compile_rule("data['total_cents'] == sum(l['line_total_cents'] for l in data['lines'])")
    assert rule(ORDER) is True
    assert rule({"data": {**ORDER["data"], "total_cents": 31}}) is False


@pytest.mark.parametrize(
    "expression",
    ["data.__class__", "__import__('os')", "open('/etc/passwd')", "[x for x in ().__class__.__mro__]", "lambda: 1", "x :="],
)  # fmt: skip
def test_anything_beyond_the_safe_subset_is_refused(expression: str) -> None:
    with pytest.raises(RuleError):
        compile_rule(expression)
