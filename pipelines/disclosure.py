"""The PII guard where outputs leave a projection: a read-model document may not carry, with a
value, a field its owning domain's contract has not released to that port.

Projections are meant to ask the contracts what they may show (`hindsight.contracts.pii`), but
a guard that relies on every author remembering is no guard. So each output is checked against
the denied fields of the domain that owns its read model (the contract whose read-model schema
names the index alias or the graph pattern's primary label): a projection that maps, say,
`email` into a search document by mistake makes the reference projection raise (tests fail
loudly), and the sink worker dead-letters that output (the sink-topic record as read, with
the reason) instead of writing it. A denied field set to
null passes: that is how a projection shows it chose not to disclose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hindsight.contracts.model import Contract
from hindsight.contracts.pii import compile_disclosure
from hindsight.contracts.policies import Policies
from pipelines.model import Output
from pipelines.read_models import GraphPattern


class PiiLeak(ValueError):
    """An output carries a field its contract does not release to its port."""


@dataclass(frozen=True)
class OutputGuard:
    # (sink, target) -> (owning domain, the field names it may not carry with a value)
    denied: Mapping[tuple[str, str], tuple[str, frozenset[str]]]

    def problem(self, out: Output) -> str | None:
        owner = self.denied.get((out.sink, out.target))
        if owner is None:
            return None
        domain, names = owner
        leaked = sorted(_leaked(out.body, names)) if names else []
        if not leaked:
            return None
        return (
            f"{out.sink}:{out.target}:{out.id} carries {', '.join(leaked)}, which {domain}'s "
            f"contract does not release to {out.sink} (piiAllowedPorts)"
        )

    def check(self, outputs: Iterable[Output]) -> None:
        for out in outputs:
            problem = self.problem(out)
            if problem is not None:
                raise PiiLeak(problem)


def guard_for(
    contracts: Mapping[str, Contract],
    policies: Policies,
    graph_patterns: Mapping[str, GraphPattern],
) -> OutputGuard:
    disclosure = compile_disclosure(contracts, policies)
    owner = {
        (s.output_port, s.physical_name): c.domain
        for c in contracts.values()
        for s in c.read_models()
        if s.output_port and s.physical_name
    }
    denied: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
    for (port, element), domain in owner.items():
        names = disclosure.denied_fields(domain, str(port))
        if port == "neo4j":  # a graph output is named by its pattern, which writes the label
            targets = [t for t, p in graph_patterns.items() if p.node_labels()[:1] == (element,)]
        else:
            targets = [str(element)]
        for target in targets:
            denied[(str(port), target)] = (domain, names)
    return OutputGuard(denied)


def _leaked(body: Any, names: frozenset[str]) -> set[str]:
    """The names in `names` that carry a value anywhere in `body`. Every output a sink writes
    passes here, so it walks with a stack, looking names up rather than collecting every key
    (a generator that yielded every key took a third of a sink's flush)."""
    found: set[str] = set()
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(v for v in node if _nested(v))
        elif isinstance(node, (dict, Mapping)):
            for k, v in node.items():
                if v is None:
                    continue
                if k in names:
                    found.add(str(k))
                if _nested(v):
                    stack.append(v)
    return found


def _nested(value: Any) -> bool:
    if isinstance(value, (dict, list)):
        return True
    return not isinstance(value, (str, int, float)) and isinstance(value, Mapping)
