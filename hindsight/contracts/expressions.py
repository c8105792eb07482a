"""Quality-rule expressions: a small, safe subset of Python evaluated against one event.

Contracts state cross-field rules (an order total is the sum of its lines) as `custom` quality
rules with `engine: hindsight`. They are plain Python expressions over `data` (and the other
envelope fields) so a domain team can read and write them without learning a rule language,
but only comparisons, arithmetic, subscripts, comprehensions and a few pure builtins are allowed:
a contract can never call into the process that evaluates it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

ENGINE = "hindsight"
_BUILTINS: dict[str, Any] = {
    "all": all,
    "any": any,
    "len": len,
    "sum": sum,
    "min": min,
    "max": max,
    "abs": abs,
    "set": set,
}
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name,
    ast.Load, ast.Store, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set,
    ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.comprehension, ast.IfExp,
    ast.And, ast.Or, ast.Not, ast.USub, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
    ast.Mod, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is,
    ast.IsNot,
)  # fmt: skip


class RuleError(ValueError):
    """A quality expression outside the allowed subset (reported by the linter)."""


def compile_rule(expression: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate over one envelope dict; raises RuleError if the expression is not allowed."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as e:
        raise RuleError(f"not a Python expression: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise RuleError(f"{type(node).__name__} is not allowed in a quality rule")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise RuleError(f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _BUILTINS
        ):
            raise RuleError(f"only {', '.join(sorted(_BUILTINS))} may be called")
    code = compile(tree, "<quality rule>", "eval")

    def predicate(envelope: dict[str, Any]) -> bool:
        # Globals, not locals: comprehensions only see the enclosing globals.
        return bool(eval(code, {**envelope, "__builtins__": _BUILTINS}))  # noqa: S307

    return predicate
