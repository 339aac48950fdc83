"""Compiler passes over the wired graph: port usage, cycles, shapes, generation order, and
whether the model can be fitted to the ``target`` its ``train:`` section names, and
whether its ``memory`` option can rebuild every chain's inputs safely (E915).

Each pass reports into the same :class:`~flowspec.diagnostics.Reporter`, so a spec's
mistakes are all shown at once. Checks of a node's settings alone (``NodeSpec.check_static``)
run first, once per spec entry and whatever the rest of the graph looks like; invertibility
and domain checks live in each node kind's shape rule (``NodeSpec.infer``), which the shape
pass calls in inference order for the nodes whose settings are valid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from flowspec.core.node import NodeCheck, Unnormalized
from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import Cost
from flowspec.diagnostics import Reporter, SpecPath
from flowspec.graph.digraph import CycleError, Digraph, find_cycle, topological_order
from flowspec.graph.memory import check_memory
from flowspec.graph.model import FlowGraph, GraphNode, PortRef
from flowspec.graph.target import check_target

__all__ = ["run_passes"]


def run_passes(graph: FlowGraph, reporter: Reporter) -> None:
    """Check the graph and fill in port infos and the two topological orders."""
    invalid = _check_settings(graph, reporter)
    if not graph.complete:
        return
    # Without a distribution every output dangles: E206 says it once for all of them.
    _check_port_usage(graph, reporter, report_unused=_check_terminals(graph, reporter))
    if not _check_acyclic(graph, reporter):
        return
    position = {name: index for index, name in enumerate(graph.nodes)}
    graph.inference_order = topological_order(graph.edges, key=position.__getitem__)
    _infer_shapes(graph, reporter, invalid)
    _report_unnormalized(graph, reporter)
    _report_unavailable_inference(graph, reporter)
    if not reporter.has_errors:
        _order_generation(graph, reporter, position)
    train = graph.header.train
    if not reporter.has_errors and train is not None and train.target is not None:
        check_target(graph, train.target, reporter)
    if not reporter.has_errors and train is not None and train.memory != "stored":
        check_memory(graph, train.memory, reporter)


def _check_port_usage(graph: FlowGraph, reporter: Reporter, report_unused: bool = True) -> None:
    """Every output port is consumed exactly once by a data edge (context may fan out)."""
    consumers: dict[PortRef, list[GraphNode]] = defaultdict(list)
    conditioning: set[str] = set()  # data inputs already reported as misused context
    conditioned_on: set[str] = set()  # nodes whose value conditions some node
    for node in graph.nodes.values():
        for ref in node.inputs:
            if ref is not None:
                consumers[ref].append(node)
        if node.context is not None:
            conditioned_on.add(node.context.node)
            if node.context in node.inputs:
                _report_self_conditioning(graph, node, reporter)
        elif node.spec is not None and node.spec.context is not None:
            # A reference already reported (broken, or on a block element: E113).
            conditioned_on.add(node.spec.context.split(".")[0])
        if node.context is not None and graph.nodes[node.context.node].is_input:
            source = graph.nodes[node.context.node]
            if not source.is_context_input:
                conditioning.add(source.id)
                reporter.error(
                    "E204",
                    f"input '{source.id}' is data, not context: data inputs are modelled, "
                    "so they cannot condition a node",
                    node.path + ("context",),
                    node=node.id,
                    hint="declare it with 'context: true', or condition on a node's output",
                )
    unreported = graph.broken | graph.loose | conditioning
    for node in graph.nodes.values():
        if node.id in unreported or node.use in unreported:
            continue
        if node.spec is not None and node.spec.terminal:
            continue
        for port in node.output_ports:
            ref = PortRef(node.id, port)
            users = consumers.get(ref, [])
            if node.is_context_input:
                if node.id not in conditioned_on and not users and report_unused:
                    reporter.error(
                        "E203",
                        f"context input '{node.id}' is never used: no node is conditioned on "
                        "it, so the flow would not depend on it",
                        node.path,
                        node=node.id,
                        hint=f"condition a node on it with 'context: {node.id}' (a coupling "
                        "or a conditional_normal), or remove it",
                    )
                for user in users:
                    reporter.error(
                        "E204",
                        f"context input '{node.id}' cannot be used as data ('in'); "
                        "use it as 'context'",
                        user.path + ("in",),
                        node=user.id,
                    )
                continue
            shown = _shown(graph, ref)
            if not users and report_unused:
                what = f"data input '{ref}'" if node.is_input else f"output '{shown}'"
                reporter.error(
                    "E203",
                    f"{what} is never used: every path must end in a distribution",
                    _where(node),
                    node=node.group or node.id,
                    hint=f"feed it to another node or to a distribution, e.g. "
                    f"{{kind: standard_normal, in: {shown}}}",
                )
            for user in users[1:]:
                first = users[0].group or users[0].id
                reporter.error(
                    "E205",
                    f"output '{shown}' is used twice (first by '{first}'): a flow cannot "
                    "copy values and stay invertible",
                    _where(user) + ("in",),
                    node=user.group or user.id,
                    hint="use a split node to route parts of it to different nodes, or "
                    "'context' to condition on it",
                )


def _shown(graph: FlowGraph, ref: PortRef) -> str:
    """A port as the user can write it: the output of a block use is the block use's
    name (the ids of expanded nodes appear nowhere in the spec)."""
    group = graph.nodes[ref.node].group
    return group if group is not None else str(ref)


def _where(node: GraphNode) -> SpecPath:
    """Where to point for a node's wiring: a block use's entry for its expanded nodes
    (whose own path is the element in the block definition, shared by every use)."""
    return ("nodes", node.group) if node.group is not None else node.path


def _report_self_conditioning(graph: FlowGraph, node: GraphNode, reporter: Reporter) -> None:
    """A node whose context is the very value it takes in cannot be inverted: generation
    would need its input to compute its input, and inference's log-det leaves out how the
    output depends on the input through the context."""
    assert node.context is not None
    shown = _shown(graph, node.context)
    reporter.error(
        "E209",
        f"'{node.group or node.id}' is conditioned on its own input '{shown}': the layer "
        "is then not invertible and its log-det is wrong",
        _where(node) + ("context",),
        node=node.group or node.id,
        hint="condition on another value (e.g. the other output of a split, or a context "
        "input), or remove 'context'",
    )


def _check_terminals(graph: FlowGraph, reporter: Reporter) -> bool:
    """Report a graph without a distribution; False when there is none."""
    if any(n.spec is not None and n.spec.terminal for n in graph.nodes.values()):
        return True
    if not graph.broken:
        reporter.error(
            "E206",
            "the graph has no distribution: log_prob needs a base density at the end",
            ("nodes",),
            hint="add e.g. prior: {kind: standard_normal, in: <last node>}",
        )
    return False


def _check_acyclic(graph: FlowGraph, reporter: Reporter) -> bool:
    cycle = find_cycle(graph.edges)
    if cycle is None:
        return True
    names = [*cycle, cycle[0]]
    first = graph.nodes[names[0]]
    reporter.error(
        "E207",
        f"the graph has a cycle: {' -> '.join(names)}",
        first.path,
        node=first.id,
        hint="a flow is a directed acyclic graph; break the cycle by changing an 'in'",
    )
    return False


def _check_settings(graph: FlowGraph, reporter: Reporter) -> set[str]:
    """Run every node's :meth:`~flowspec.core.node.NodeSpec.check_static`; the ids of the
    nodes whose settings have errors.

    The nodes expanded from one block element share its settings and its path, so the
    element is checked once (its problems named after the block) and, if it fails, all
    its expanded nodes are invalid.
    """
    invalid: set[str] = set()
    valid_by_path: dict[SpecPath, bool] = {}
    for node in graph.nodes.values():
        if node.spec is None:
            continue
        if node.path not in valid_by_path:
            label = str(node.path[1]) if node.group is not None else node.id
            check = NodeCheck(reporter, label, node.path)
            node.spec.check_static(check)
            valid_by_path[node.path] = check.errors == 0
        if not valid_by_path[node.path]:
            invalid.add(node.id)
    return invalid


def _infer_shapes(graph: FlowGraph, reporter: Reporter, invalid: set[str]) -> None:
    for name in graph.inference_order:
        node = graph.nodes[name]
        if node.is_input and node.output_info is not None:
            node.output_info = tuple(_traced(info, (), name) for info in node.output_info)
        if node.is_input or node.spec is None or name in invalid:
            continue
        if node.spec.context is not None and node.context is None:
            continue  # the context reference is broken and already reported
        infos = [_port_info(graph, ref) for ref in node.inputs]
        known = [info for info in infos if info is not None]
        if not node.inputs or len(known) != len(infos):
            continue
        context_info = None
        if node.context is not None:
            context_info = _port_info(graph, node.context)
            if context_info is None:
                continue
        if len(infos) != len(node.spec.input_ports()):
            continue
        node.input_info = tuple(known)
        node.context_info = context_info
        check = NodeCheck(reporter, node.id, node.path)
        outputs = node.spec.infer(node.input_info, context_info, check)
        if outputs is not None:
            outputs = tuple(_traced(info, node.input_info, name) for info in outputs)
        node.output_info = outputs
        node.unnormalized = check.unnormalized


def _traced(info: PortInfo, inputs: tuple[PortInfo, ...], name: str) -> PortInfo:
    """``info`` with the origin of its support: where its values came off the whole real
    line. Values moved by a learned map (``partial``) or passed on unchanged keep the
    origin of the input they come from; a node (or input) that sets a new interval, or
    levels, is the origin itself."""
    support = info.support
    if support.is_real_line or support.origin is not None:
        return info
    for source in inputs:
        if source.support.origin is not None and (support.partial or support == source.support):
            return PortInfo(info.shape, replace(support, origin=source.support.origin))
    return PortInfo(info.shape, replace(support, origin=name))


def _report_unnormalized(graph: FlowGraph, reporter: Reporter) -> None:
    """One warning per cause (W501 for distributions, W800 for conditional densities): the
    densities of the whole real line that get values from one origin, at the first of
    them, naming the origin and the others (a Glow's factored-out priors share one)."""
    causes: dict[tuple[str, str | None], list[tuple[GraphNode, Unnormalized]]] = {}
    for node in graph.layers:
        for found in node.unnormalized:
            causes.setdefault((found.code, found.support.origin), []).append((node, found))
    for (code, origin), group in causes.items():
        node, first = group[0]
        support = first.support
        covers = "all integers" if support.integers else "the whole real line"
        where = f"lie in {support}"
        if origin is not None and graph.nodes[origin].is_input:
            where += f" (as input '{origin}' declares)"
        elif origin is not None:
            where += f" (from node '{origin}')"
        if support.ordered:
            where = "are sorted: one ordering of each set, a cone holding 1/N! of the space"
        elif support.integers and support.partial:
            where = "are only a part of them (values with levels moved by integer flows)"
        elif support.partial:
            where = "do not fill it" + (
                f": node '{origin}' bounds them and learned layers only move them"
                if origin is not None and not graph.nodes[origin].is_input
                else ": bounded values moved by learned layers"
            )
        others = sorted({other.id for other, _ in group[1:]} - {node.id})
        also = f"; the same values reach the densities of {', '.join(others)}" if others else ""
        reporter.warning(
            code,
            f"{first.density} covers {covers} but its values {where}, so it puts mass where "
            "no value can be: log_prob is not normalized over the data's domain (a lower "
            f"bound){also}",
            node.path + first.fields,
            node=node.id,
            hint=_unnormalized_hint(support)
            + f"; or accept the bound with accept: {{{code}: <reason>}}",
        )


def _unnormalized_hint(support: Support) -> str:
    """What maps values of ``support`` onto what a density of the whole line (or a pmf of
    all integers) needs."""
    if support.ordered:
        return (
            "map the sorted values onto the whole space right after the sort: "
            "{kind: ordered_to_real} (the first value, then the logs of the gaps)"
        )
    if support.integers:
        return (
            "model values with levels by maps that keep them in 0..K-1 ({kind: discrete_flow}) "
            "and a pmf over the levels ({kind: categorical})"
        )
    if support.partial:
        return _UNNORMALIZED_HINT
    return (
        "map the values to the real line first, e.g. {kind: elementwise, fn: logit} for (0, 1) "
        "or {kind: elementwise, fn: log} for (0, inf)"
    )


_UNNORMALIZED_HINT = (
    "map bounded values onto the whole real line before any learned layer, e.g. "
    "{kind: elementwise, fn: logit} (without alpha, which maps onto a bounded interval) for "
    "(0, 1)"
)


def _report_unavailable_inference(graph: FlowGraph, reporter: Reporter) -> None:
    """W752 for every node (every block element, once) whose inference direction is not
    available, so that ``log_prob`` of data is not: with the kind's own remedy."""
    seen: set[SpecPath] = set()
    for node in graph.layers:
        if node.spec is None or node.path in seen or node.input_info is None:
            continue
        if node.spec.costs().inference is not Cost.UNAVAILABLE:
            continue
        seen.add(node.path)
        reporter.warning(
            "W752",
            f"{node.spec.kind} has no inference direction (data -> latent) here, so "
            "log_prob of given data is unavailable; sample and sample_and_log_prob (the "
            "exact density of the model's own samples) work",
            node.path,
            node=str(node.path[1]) if node.group is not None else node.id,
            hint=node.spec.inference_remedy(),
        )


def _port_info(graph: FlowGraph, ref: PortRef | None) -> PortInfo | None:
    if ref is None:
        return None
    source = graph.nodes[ref.node]
    if source.output_info is None:
        return None
    return source.output_info[source.output_ports.index(ref.port)]


def _order_generation(graph: FlowGraph, reporter: Reporter, position: dict[str, int]) -> None:
    """Generation runs each node once every output and context value it needs is known."""
    layers = [n for n in graph.nodes.values() if not n.is_input]
    needs = Digraph(n.id for n in layers)
    for node in layers:
        for port in node.output_ports if not node.node_spec.terminal else ():
            consumer = graph.consumer(PortRef(node.id, port))
            assert consumer is not None, "every output is consumed once (checked before)"
            needs.add_edge(consumer.id, node.id)
        if node.context is not None and not graph.nodes[node.context.node].is_input:
            producer_of_value = graph.consumer(node.context)
            if producer_of_value is not None and producer_of_value.id != node.id:
                needs.add_edge(producer_of_value.id, node.id)
    try:
        graph.generation_order = topological_order(needs, key=lambda n: -position[n])
    except CycleError as error:
        cycle = error.cycle
        first = graph.nodes[cycle[0]]
        reporter.error(
            "E208",
            "the model cannot be sampled: in generation these nodes wait on each other's "
            f"context: {' -> '.join(cycle + cycle[:1])}",
            first.path,
            node=first.id,
        )
