"""Every registered kind's declared examples (``flowspec.core.example``) as test cases.

The contract tests (``test_contract_*.py``) and the tests that run something per kind
(torch.compile, standalone modules) take their cases from here, so they cover every kind
the registry finds, and nothing lists kinds by hand. Torch-free: the test that parameter
counts need no torch imports this module in a fresh interpreter.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import conditioner_kinds, density_kinds, node_kinds, transformer_kinds
from flowspec.diagnostics import Reporter

__all__ = [
    "CATEGORIES",
    "Case",
    "NodeCase",
    "cases",
    "conditioner_host",
    "declarable",
    "docstring_examples",
    "example_errors",
    "example_specs",
    "fragment_mappings",
    "node_cases",
    "parameter_count",
    "registry",
    "run_node_checks",
    "spec_text",
]

CATEGORIES = ("node", "transformer", "conditioner", "density")

#: The number of parameters per feature of the transformer a conditioner is tried with.
CONDITIONER_PARAMS = 2


def registry(category: str) -> dict[str, type]:
    """The registered kinds of one category, by name."""
    return {
        "node": node_kinds,
        "transformer": transformer_kinds,
        "conditioner": conditioner_kinds,
        "density": density_kinds,
    }[category]()


@dataclass(frozen=True)
class Case:
    """One declared example of one kind."""

    category: str
    kind: str
    index: int
    example: Example

    @property
    def id(self) -> str:
        label = self.example.label or str(self.index)
        return f"{self.kind}[{label}]".replace(" ", "_")

    @property
    def cls(self) -> type:
        return registry(self.category)[self.kind]

    def spec(self) -> Any:
        """The kind's spec model with the example's settings."""
        return self.cls.model_validate({"kind": self.kind, **self.example.settings})


def cases(category: str) -> list[Case]:
    """Every example of every kind of ``category``, in registry order."""
    return [
        Case(category, kind, index, example)
        for kind, cls in registry(category).items()
        for index, example in enumerate(cls.examples)
    ]


@dataclass(frozen=True)
class NodeCase:
    """A node with settings and inputs to run the node contract on: a node kind's own
    example, or a part's example placed in a node that hosts it."""

    id: str
    settings: dict[str, Any]
    inputs: tuple[PortInfo, ...]
    context: PortInfo | None = None
    #: The declared example this case runs.
    origin: Case | None = None
    #: For a part's example: the node hosting it (``elementwise``, ``coupling``, ``maf``, ...).
    host: str = ""

    @property
    def kind(self) -> str:
        return self.settings["kind"]

    def spec(self) -> NodeSpec:
        wiring: dict[str, Any] = {"in": input_names(len(self.inputs))}
        if len(self.inputs) == 1:
            wiring["in"] = wiring["in"][0]
        if self.context is not None:
            wiring["context"] = "c"
        return node_kinds()[self.kind].model_validate({**self.settings, **wiring})


def input_names(count: int) -> list[str]:
    return ["x"] if count == 1 else [f"x{i}" for i in range(count)]


#: The nodes each transformer example is tried in: elementwise (flat and image), coupling,
#: and both directions of an autoregressive layer.
TRANSFORMER_HOSTS = {
    "elementwise": ({"kind": "elementwise"}, (3,)),
    "elementwise_image": ({"kind": "elementwise"}, (1, 2, 2)),
    "coupling": ({"kind": "coupling", "conditioner": {"hidden": [8]}}, (3,)),
    "maf": ({"kind": "autoregressive", "conditioner": {"hidden": [8]}}, (3,)),
    "iaf": ({"kind": "autoregressive", "direction": "iaf", "conditioner": {"hidden": [8]}}, (3,)),
}


def conditioner_host(case: Case, direction: str = "maf") -> dict[str, Any] | None:
    """The node a conditioner example serves in (its role), or None for the plain role."""
    conditioner = {"kind": case.kind, **case.example.settings}
    if case.example.role == "coupling":
        return {"kind": "coupling", **case.example.host, "conditioner": conditioner}
    if case.example.role == "autoregressive":
        return {
            "kind": "autoregressive",
            "direction": direction,
            **case.example.host,
            "conditioner": conditioner,
        }
    return None


def node_cases() -> list[NodeCase]:
    """Every node kind's examples, every transformer example in each host node, and every
    coupling or autoregressive conditioner example in the layer it serves (both
    directions of an autoregressive one)."""
    found = [
        NodeCase(
            c.id, {"kind": c.kind, **c.example.settings}, c.example.inputs, c.example.context, c
        )
        for c in cases("node")
    ]
    for c in cases("transformer"):
        (support_port,) = c.example.inputs
        transformer = {"kind": c.kind, **c.example.settings}
        for host, (settings, shape) in TRANSFORMER_HOSTS.items():
            port = PortInfo(shape, support_port.support)
            found.append(
                NodeCase(
                    f"{c.id}-in-{host}",
                    {**settings, "transformer": transformer},
                    (port,),
                    None,
                    c,
                    host,
                )
            )
    for c in cases("conditioner"):
        directions = ("maf", "iaf") if c.example.role == "autoregressive" else ("coupling",)
        for direction in directions:
            settings = conditioner_host(c, direction)
            if settings is not None:
                found.append(
                    NodeCase(
                        f"{c.id}-in-{direction}",
                        settings,
                        c.example.inputs,
                        c.example.context,
                        c,
                        direction,
                    )
                )
    return found


def run_node_checks(
    node: NodeSpec, inputs: tuple[PortInfo, ...], context: PortInfo | None
) -> tuple[tuple[PortInfo, ...] | None, Reporter]:
    """What the compiler does for one node: its settings checks, then its shape rule."""
    reporter = Reporter()
    check = NodeCheck(reporter, "node", ("nodes", "node"))
    node.check_static(check)
    outputs = None if check.errors else node.infer(inputs, context, check)
    return outputs, reporter


def parameter_count(case: Case) -> int:
    """The parameters the kind says its module holds for the example, from the spec alone
    (torch-free)."""
    spec, example = case.spec(), case.example
    if case.category == "transformer":
        return spec.parameter_count()
    if case.category == "density":
        context = example.context.numel if example.context is not None else 0
        return spec.density_parameter_count(example.inputs[0], context)
    if example.role == "plain":
        inputs, outputs = example.inputs
        return spec.parameter_count(inputs.numel, outputs.numel)
    context_shape = example.context.shape if example.context is not None else None
    if example.role == "autoregressive":
        return spec.autoregressive_parameter_count(
            example.inputs[0].shape, CONDITIONER_PARAMS, context_shape
        )
    kept, changed = coupling_parts(case)
    return spec.coupling_parameter_count(kept, changed, CONDITIONER_PARAMS, context_shape)


def coupling_parts(case: Case) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shapes of the kept and the changed part a coupling conditioner example maps
    between (the coupling's partition of its input by its mask)."""
    host = node_kinds()["coupling"].model_validate(conditioner_host(case))
    kept, changed, _ = host._shapes(case.example.inputs, case.example.context)
    return kept, changed


def spec_text(node_cases: list[NodeCase], name: str) -> str:
    """One spec running every case side by side: each case's inputs declared as spec inputs
    (``x<i>_<j>``, context ``c<i>``), its node ``n<i>``, and a base distribution on each
    output that fits its values (categorical for levels, discretized logistic for
    integers, standard normal otherwise). Sorted inputs (the layout a ``sort`` leaves) are
    declared unsorted and sorted by a ``sort`` node ``s<i>_<j>``."""
    inputs: dict[str, Any] = {}
    nodes: dict[str, Any] = {}
    for index, case in enumerate(node_cases):
        node = case.spec()
        names = []
        for j, info in enumerate(case.inputs):
            name = f"x{index}_{j}"
            inputs[name] = declared_input(info)
            if info.support.sorted_by is not None:
                nodes[f"s{index}_{j}"] = {"kind": "sort", "by": info.support.sorted_by, "in": name}
                name = f"s{index}_{j}"
            names.append(name)
        wiring: dict[str, Any] = {"in": names[0] if len(names) == 1 else names}
        if case.context is not None:
            inputs[f"c{index}"] = {"shape": list(case.context.shape), "context": True}
            wiring["context"] = f"c{index}"
        nodes[f"n{index}"] = {**wiring, **case.settings}
        outputs, reporter = run_node_checks(node, case.inputs, case.context)
        assert outputs is not None, [d.format() for d in reporter.diagnostics]
        ports = node.output_ports()
        for port, info in zip(ports, outputs, strict=True):
            source = f"n{index}" if len(ports) == 1 else f"n{index}.{port}"
            nodes[f"base{index}_{port}"] = {"kind": _base_for(info.support), "in": source}
    document = {"flowspec": "1", "name": name, "inputs": inputs, "nodes": nodes}
    return yaml.safe_dump(document, sort_keys=False)


def example_specs(keep: Callable[[NodeSpec], bool]) -> dict[str, str]:
    """The declared examples side by side, one spec per group: each node kind's first
    example, each transformer's first in an elementwise node, each conditioner's first in
    the layer it serves; only declarable cases whose node ``keep`` accepts."""
    groups: dict[str, list[NodeCase]] = {"node_kinds": [], "transformers": [], "conditioners": []}
    chosen: set[tuple[str, str]] = set()
    for case in node_cases():
        origin = case.origin
        group = {"node": "node_kinds", "transformer": "transformers"}.get(
            origin.category, "conditioners"
        )
        if origin.category == "transformer" and case.host != "elementwise":
            continue
        if (origin.category, origin.kind) in chosen or not declarable(case):
            continue
        if keep(case.spec()):
            chosen.add((origin.category, origin.kind))
            groups[group].append(case)
    return {name: spec_text(members, name) for name, members in groups.items()}


def declarable(case: NodeCase) -> bool:
    """Whether a spec input can hold the case's inputs (levels, or an interval whose ends
    are both open or both closed; not unbounded integers)."""
    return all(
        not info.support.integers
        and not info.support.partial
        and (info.support.levels is not None or _ends_agree(info.support))
        for info in case.inputs
    )


def _ends_agree(support: Support) -> bool:
    finite = [
        closed
        for end, closed in ((support.low, support.closed_low), (support.high, support.closed_high))
        if math.isfinite(end)
    ]
    return len(set(finite)) <= 1


def declared_input(info: PortInfo) -> dict[str, Any]:
    """A spec input whose values have ``info``'s shape and support (for sorted values, the
    values before the sort)."""
    support = info.support.interval()
    declared: dict[str, Any] = {"shape": list(info.shape)}
    if support.levels is not None:
        declared["levels"] = support.levels
        return declared
    if math.isfinite(support.low):
        declared["low"] = support.low
    if math.isfinite(support.high):
        declared["high"] = support.high
    if not (support.closed_low or support.closed_high) and not support.is_real_line:
        declared["bounds"] = "open"
    return declared


def _base_for(support: Support) -> str:
    if support.levels is not None:
        return "categorical"
    if support.integers:
        return "discretized_logistic"
    return "standard_normal"


# --- the example in each kind's docstring -------------------------------------------------

#: Under which keys a docstring fragment's mapping is a part rather than a node.
PART_KEYS = {
    "transformer": "transformer",
    "conditioner": "conditioner",
    "net": "conditioner",
    "decoder": "density",
    "encoder": "density",
    "dequantizer": "density",
    "sign": "density",
}


def docstring_examples(cls: type) -> list[str]:
    """The ``Example::`` (or ``Examples::``) blocks of a kind's module docstring (or its
    class docstring): the fragments ``flowspec nodes KIND`` shows users."""
    texts = [sys.modules[cls.__module__].__doc__ or "", cls.__doc__ or ""]
    blocks = []
    for text in texts:
        lines = inspect.cleandoc(text).split("\n")
        for index, line in enumerate(lines):
            if re.fullmatch(r"Examples?::", line.strip()):
                block = []
                for following in lines[index + 1 :]:
                    if following.strip() and not following.startswith(" "):
                        break
                    block.append(following)
                blocks.append(inspect.cleandoc("\n".join(block)))
    return blocks


def fixed_map(node: dict[str, Any]) -> dict[str, Any]:
    """``{kind: elementwise, fn: F, ...}`` as the transformer it applies: kind F with the
    node's settings for F (what ``ElementwiseSpec.map`` builds)."""
    fields = transformer_kinds()[node["fn"]].model_fields
    return {"kind": node["fn"], **{k: v for k, v in node.items() if k in fields and k != "kind"}}


def fragment_mappings(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The mappings with a ``kind`` in a YAML fragment, each with what it is: ``node`` at
    the top, in a list, or under a node id; a part under a part's field (``transformer:``,
    ``decoder:``, ...). Nested parts of a node are validated with it, so they are not
    listed again."""
    found: list[tuple[str, dict[str, Any]]] = []

    def visit(value: Any, category: str) -> None:
        if isinstance(value, dict) and "kind" in value:
            found.append((category, value))
            if category == "node" and value["kind"] == "elementwise" and "fn" in value:
                found.append(("transformer", fixed_map(value)))
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, PART_KEYS.get(key, "node"))
        elif isinstance(value, list):
            for item in value:
                visit(item, category)

    visit(yaml.safe_load(text), "node")
    return found


def example_errors(
    category: str, kind: str, settings: dict[str, Any], example: Example
) -> list[str]:
    """The errors the compiler reports for a kind with ``settings`` used as in ``example``
    (its inputs, context and role): a node's settings and shape checks, a transformer's
    settings and domain, a conditioner's settings and role, a density's event."""
    cls = registry(category)[kind]
    reporter = Reporter()
    check = NodeCheck(reporter, "node", ("nodes", "node"))
    if category == "node":
        wiring = {"in": input_names(len(example.inputs))}
        if len(example.inputs) == 1:
            wiring["in"] = wiring["in"][0]
        if example.context is not None:
            wiring["context"] = "c"
        node = cls.model_validate({"kind": kind, **settings, **wiring})
        _, reporter = run_node_checks(node, example.inputs, example.context)
        return [d.format() for d in reporter.diagnostics if d.severity == "error"]
    spec = cls.model_validate({"kind": kind, **settings})
    (port, *_) = example.inputs
    if category == "transformer":
        spec.check_static(check, "transformer")
        spec.check_domain(port.support, check, "E610", kind, "transformer")
    elif category == "density":
        spec.check_event(port, check, "decoder")
    else:
        spec.check_static(check, "conditioner")
        if example.role not in cls.roles:
            check.error("E000", f"{kind} does not play the role {example.role!r}")
        elif example.role == "coupling":
            host = node_kinds()["coupling"].model_validate(
                {"kind": "coupling", **example.host, "conditioner": {"kind": kind, **settings}}
            )
            shapes = host.partition_shapes(port, check)
            if shapes is not None:
                spec.check_coupling(*shapes, example.context, check, "conditioner")
        elif example.role == "autoregressive":
            spec.check_autoregressive(port, example.context, check, "conditioner")
    return [d.format() for d in reporter.diagnostics if d.severity == "error"]
