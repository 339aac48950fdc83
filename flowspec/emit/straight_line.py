"""The bodies of the generated ``_log_prob`` and ``_generate``: a
:class:`~flowspec.optimize.Program` as straight-line PyTorch, one path per direction.

Every layer that runs is called as a module (``nodes[id](...)``, through
``nn.Module.__call__``), so hooks on it fire; the program decides which layers run. A
literal program (``flowspec.compile(..., optimize=False)``) calls every node. After the
graph passes, a folded permutation, split or concat runs nothing, a coupling runs on its
two parts (``couple``/``uncouple``, which call its conditioner and transformer as modules)
and adjacent affine maps run as one (``self._affine_chain``).

Values are tracked at compile time as *pieces*: tensors holding some of a value's feature
positions (event axis 0) in some order. A folded permutation renames positions, a folded
split or concat regroups pieces, a coupling takes its kept and transformed parts from the
pieces and leaves two pieces behind; a layer that needs the whole tensor gets the pieces
joined (a view, a ``cat`` through ``self._join``, or one gather by an index table, a
non-persistent buffer ``fold_index_<k>``). None of this moves data that the literal code would not have moved.
Each intermediate is released (``del``) after its last use, so inference without gradients
holds O(1) activations, not one per node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flowspec.diagnostics import Locator
from flowspec.graph.model import FlowGraph, GraphNode, PortRef
from flowspec.optimize.program import AffineChain, Couple, Op, Permute, Program, Regroup

__all__ = ["emit_generate", "emit_log_prob", "value_name"]

INDENT = "        "
#: Up to how many runs a selection is joined with ``cat``; more take one gather.
_MAX_RUNS = 4


def value_name(graph: FlowGraph, ref: PortRef) -> str:
    """The variable named after one output port's value: ``node`` or ``node__port``
    (node ids never contain ``__``)."""
    node = graph.nodes[ref.node]
    return node.id if len(node.output_ports) == 1 else f"{node.id}__{ref.port}"


def node_comment(node: GraphNode, locator: Locator | None) -> str:
    """The comment naming a node, its block use and its place in the spec."""
    location = locator.locate(node.path) if locator else None
    where = f" at {location.file!r}:{location.line}:{location.col}" if location else ""
    group = f" (block use {node.group!r}, repetition {node.repetition})" if node.group else ""
    return f"{INDENT}# {node.id}: {node.kind}{group}{where}"


@dataclass(frozen=True)
class Piece:
    """A tensor variable holding the features ``positions`` (in column order)."""

    var: str
    positions: tuple[int, ...]


@dataclass
class _Body:
    """The statements of one method, with the variables each reads (to release them)."""

    graph: FlowGraph
    locator: Locator | None
    tables: dict[str, list[int]]
    statements: list[tuple[str, list[str]]] = field(default_factory=list)
    values: dict[PortRef, list[Piece]] = field(default_factory=dict)
    #: The folded permutations a value went through since a layer last read it.
    renamed: dict[PortRef, list[GraphNode]] = field(default_factory=dict)
    #: Names a new variable may not take: the method's own (node ids never do).
    taken: set[str] = field(
        default_factory=lambda: {"self", "n", "nodes", "logp", "contribution", "latents", "_"}
    )

    # -- statements and names ---------------------------------------------------------

    def emit(self, line: str, reads: Iterable[str] = ()) -> None:
        self.statements.append((f"{INDENT}{line}", list(reads)))

    def note(self, text: str) -> None:
        self.statements.append((f"{INDENT}#   {text}", []))

    def comment(self, op: Op) -> None:
        for node in op.nodes:
            self.statements.append((node_comment(node, self.locator), []))
        if op.note:
            self.note(op.note)

    def name(self, base: str) -> str:
        """A variable name not used before in this method: ``base``, else ``base__<k>``."""
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}__{k}"
        self.taken.add(name)
        return name

    def assign(self, base: str, expression: str, reads: Iterable[str]) -> str:
        var = self.name(base)
        self.emit(f"{var} = {expression}", reads)
        return var

    def table(self, index: list[int]) -> str:
        for name, existing in self.tables.items():
            if existing == index:
                return f"self.{name}"
        name = f"fold_index_{len(self.tables)}"
        self.tables[name] = index
        return f"self.{name}"

    # -- values as pieces -------------------------------------------------------------

    def features(self, ref: PortRef) -> int | None:
        node = self.graph.nodes[ref.node]
        shape = node.known_outputs[node.output_ports.index(ref.port)].shape
        return shape[0] if shape else None

    def bind(self, ref: PortRef, var: str) -> None:
        """``ref``'s value is the whole tensor ``var``."""
        self.taken.add(var)
        self.values[ref] = [Piece(var, tuple(range(self.features(ref) or 0)))]

    def select(self, ref: PortRef, wanted: list[int], base: str) -> str:
        """A variable holding the features ``wanted`` (in that order) of ``ref``'s value,
        named after ``base`` if it is new. Features scattered over several pieces are
        joined once (the value is then held as that one tensor) and gathered from it."""
        pieces = self.values[ref]
        where = {
            pos: (k, col)
            for k, piece in enumerate(pieces)
            for col, pos in enumerate(piece.positions)
        }
        runs: list[list[int]] = []  # [piece, first column, last column, step]
        for pos in wanted:
            k, col = where[pos]
            if runs and runs[-1][0] == k:
                run = runs[-1]
                step = run[3] or (col - run[2])
                if step in (1, -1) and col == run[2] + step:
                    run[2], run[3] = col, step
                    continue
            runs.append([k, col, col, 0])
        if len(runs) == 1:
            k, first, last, step = runs[0]
            piece = pieces[k]
            if step >= 0 and first == 0 and last == len(piece.positions) - 1:
                return piece.var
            return self.assign(base, self._run(piece, first, last, step), [piece.var])
        reads = sorted({pieces[run[0]].var for run in runs})
        if len(runs) <= _MAX_RUNS:
            parts = [self._run(pieces[k], a, b, s) for k, a, b, s in runs]
            return self.assign(base, _cat(parts), reads)
        if len(pieces) > 1:
            pieces_var = f"{value_name(self.graph, ref)}__pieces"  # in the pieces' order
            joined = self.assign(pieces_var, _cat([p.var for p in pieces]), reads)
            positions = tuple(pos for piece in pieces for pos in piece.positions)
            self.values[ref] = [Piece(joined, positions)]
            return self.select(ref, wanted, base)
        column = {pos: col for col, pos in enumerate(pieces[0].positions)}
        index = self.table([column[pos] for pos in wanted])
        return self.assign(base, f"{pieces[0].var}.index_select(1, {index})", reads)

    @staticmethod
    def _run(piece: Piece, first: int, last: int, step: int) -> str:
        if step >= 0:
            if first == 0 and last == len(piece.positions) - 1:
                return piece.var
            return f"{piece.var}[:, {first}:{last + 1}]"
        if last == 0 and first == len(piece.positions) - 1:
            return f"{piece.var}.flip(1)"
        return f"{piece.var}[:, {last}:{first + 1}].flip(1)"

    def whole(self, ref: PortRef) -> str:
        """A variable holding ``ref``'s whole value in order (joined once, then reused)."""
        features = self.features(ref)
        if features is None:
            return self.values[ref][0].var
        var = self.select(ref, list(range(features)), value_name(self.graph, ref))
        self.values[ref] = [Piece(var, tuple(range(features)))]
        return var

    def restrict(self, pieces: list[Piece], low: int, high: int, base: str) -> list[Piece]:
        """The pieces of positions ``low <= p < high``, renumbered from 0."""
        out = []
        for piece in pieces:
            columns = [c for c, p in enumerate(piece.positions) if low <= p < high]
            if not columns:
                continue
            positions = tuple(piece.positions[c] - low for c in columns)
            if len(columns) == len(piece.positions):
                out.append(Piece(piece.var, positions))
            elif columns == list(range(columns[0], columns[-1] + 1)):
                sliced = f"{piece.var}[:, {columns[0]}:{columns[-1] + 1}]"
                out.append(Piece(self.assign(base, sliced, [piece.var]), positions))
            else:
                gathered = f"{piece.var}.index_select(1, {self.table(columns)})"
                out.append(Piece(self.assign(base, gathered, [piece.var]), positions))
        return out

    @staticmethod
    def shift(pieces: list[Piece], offset: int) -> list[Piece]:
        return [Piece(p.var, tuple(q + offset for q in p.positions)) for p in pieces]

    def context(self, node: GraphNode) -> tuple[str, list[str]]:
        if node.context is None:
            return "", []
        var = self.whole(node.context)
        return f", context={var}", [var]

    def released(self, keep: set[str]) -> list[str]:
        """The statements with ``del`` of every variable after its last read."""
        last_use = {name: i for i, (_, reads) in enumerate(self.statements) for name in reads}
        free: list[list[str]] = [[] for _ in self.statements]
        for name, index in last_use.items():
            if name not in keep:
                free[index].append(name)
        lines = []
        for (line, _), names in zip(self.statements, free, strict=True):
            lines.append(line)
            if names:
                lines.append(f"{INDENT}del {', '.join(sorted(names))}")
        return lines


def _cat(parts: list[str]) -> str:
    """Pieces of a value joined along event axis 0. Generated code reads no globals: a
    ``torch.cat`` in the in-memory model (executed source, no module of its own) stops
    torch.compile, which looks its globals up by module name."""
    return f"self._join({', '.join(parts)})"


def _ranges(sizes: list[int]) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for size in sizes:
        bounds.append((start, start + size))
        start += size
    return bounds


def _inverse_order(order: list[int]) -> list[int]:
    inverse = [0] * len(order)
    for i, source in enumerate(order):
        inverse[source] = i
    return inverse


def _layer(node: GraphNode) -> str:
    return f"nodes[{node.id!r}]"


class _Sum:
    """The running ``logp`` of the inference method. Volume-preserving nodes (contribution
    always zero) are left out of it."""

    def __init__(self, body: _Body) -> None:
        self.body = body
        self.started = False

    def sink(self, node: GraphNode) -> str:
        return "_" if node.node_spec.preserves_volume() else "contribution"

    def add(self, sink: str) -> None:
        if sink == "_":
            return
        line = f"logp = logp + {sink}" if self.started else f"logp = {sink}"
        self.body.emit(line, [sink])
        self.started = True


def emit_log_prob(
    program: Program, locator: Locator | None, tables: dict[str, list[int]]
) -> list[str]:
    """The body of ``_log_prob``: inference, keeping only the running log p(x)."""
    graph = program.graph
    body = _Body(graph, locator, tables)
    total = _Sum(body)
    for name in graph.data_inputs + graph.context_inputs:
        body.bind(PortRef(name, "value"), name)
    for op in program.ops:
        body.comment(op)
        node = op.first
        if isinstance(op, Permute):
            inverse = _inverse_order(op.order)
            moved = [
                Piece(p.var, tuple(inverse[q] for q in p.positions))
                for p in body.values[node.input_refs[0]]
            ]
            out = PortRef(node.id, node.output_ports[0])
            body.values[out] = moved
            body.renamed[out] = [*body.renamed.get(node.input_refs[0], []), node]
        elif isinstance(op, Regroup) and op.splits:
            pieces = body.values[node.input_refs[0]]
            for port, (low, high) in zip(node.output_ports, _ranges(op.sizes), strict=True):
                ref = PortRef(node.id, port)
                body.values[ref] = body.restrict(pieces, low, high, value_name(graph, ref))
        elif isinstance(op, Regroup):
            joined = []
            for ref, (low, _) in zip(node.input_refs, _ranges(op.sizes), strict=True):
                joined += body.shift(body.values[ref], low)
            body.values[PortRef(node.id, node.output_ports[0])] = joined
        elif isinstance(op, Couple):
            ref = node.input_refs[0]
            if ref in body.renamed:
                folded = ", ".join(f"{n.id} ({n.kind})" for n in body.renamed[ref])
                body.note(f"its index sets fold in: {folded}")
            a = body.select(ref, op.keep, f"{node.id}__a")
            b = body.select(ref, op.change, f"{node.id}__b")
            context, reads = body.context(node)
            z, sink = body.name(f"{node.id}__z"), total.sink(node)
            body.emit(f"{z}, {sink} = {_layer(node)}.couple({a}, {b}{context})", [a, b, *reads])
            total.add(sink)
            parts = [Piece(a, tuple(op.keep)), Piece(z, tuple(op.change))]
            body.values[PortRef(node.id, node.output_ports[0])] = parts
        elif isinstance(op, AffineChain):
            x = body.whole(node.input_refs[0])
            out = PortRef(op.last.id, op.last.output_ports[0])
            var = body.name(value_name(graph, out))
            layers = ", ".join(_layer(n) for n in op.nodes)
            body.emit(f"{var}, contribution = self._affine_chain({x}, {layers})", [x])
            total.add("contribution")
            body.bind(out, var)
        else:
            args = [body.whole(ref) for ref in node.input_refs]
            context, reads = body.context(node)
            call = f"{_layer(node)}({', '.join(args)}{context})"
            if node.node_spec.terminal:
                body.emit(f"contribution = {call}", args + reads)
                total.add("contribution")
                continue
            outputs = [body.name(value_name(graph, PortRef(node.id, p))) for p in node.output_ports]
            targets = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
            sink = total.sink(node)
            body.emit(f"{targets}, {sink} = {call}", args + reads)
            total.add(sink)
            for port, var in zip(node.output_ports, outputs, strict=True):
                body.bind(PortRef(node.id, port), var)
    inputs = set(graph.data_inputs) | set(graph.context_inputs)
    return [*body.released(inputs | {"contribution"}), f"{INDENT}return logp"]


def _output(op: Op) -> PortRef:
    """The value an operation of nodes with one output ends in."""
    return PortRef(op.last.id, op.last.output_ports[0])


def emit_generate(
    program: Program, locator: Locator | None, tables: dict[str, list[int]]
) -> list[str]:
    """The body of ``_generate``: latents -> data, in generation order."""
    graph = program.graph
    body = _Body(graph, locator, tables)
    for name in graph.context_inputs:
        body.bind(PortRef(name, "value"), name)
    op_of = program.op_of()
    done: set[int] = set()
    for node_id in graph.generation_order:
        op = op_of[node_id]
        if id(op) in done:
            continue
        done.add(id(op))
        body.comment(op)
        node = op.first
        if isinstance(op, Permute):
            back = [
                Piece(p.var, tuple(op.order[q] for q in p.positions))
                for p in body.values[_output(op)]
            ]
            body.values[node.input_refs[0]] = back
        elif isinstance(op, Regroup) and op.splits:
            joined = []
            for port, (low, _) in zip(node.output_ports, _ranges(op.sizes), strict=True):
                joined += body.shift(body.values[PortRef(node.id, port)], low)
            body.values[node.input_refs[0]] = joined
        elif isinstance(op, Regroup):
            pieces = body.values[_output(op)]
            for ref, (low, high) in zip(node.input_refs, _ranges(op.sizes), strict=True):
                body.values[ref] = body.restrict(pieces, low, high, value_name(graph, ref))
        elif isinstance(op, Couple):
            a = body.select(_output(op), op.keep, f"{node.id}__a")
            z_b = body.select(_output(op), op.change, f"{node.id}__z")
            context, reads = body.context(node)
            b = body.name(f"{node.id}__b")
            body.emit(f"{b} = {_layer(node)}.uncouple({a}, {z_b}{context})", [a, z_b, *reads])
            body.values[node.input_refs[0]] = [Piece(a, tuple(op.keep)), Piece(b, tuple(op.change))]
        elif isinstance(op, AffineChain):
            z = body.whole(_output(op))
            var = body.name(value_name(graph, node.input_refs[0]))
            layers = ", ".join(_layer(n) for n in op.nodes)
            body.emit(f"{var} = self._affine_chain_inverse({z}, {layers})", [z])
            body.bind(node.input_refs[0], var)
        elif node.node_spec.terminal:
            context, reads = body.context(node)
            var = body.name(value_name(graph, node.input_refs[0]))
            body.emit(
                f"{var} = latents[{node.id!r}] if {node.id!r} in latents "
                f"else {_layer(node)}.sample(n{context})",
                reads,
            )
            body.bind(node.input_refs[0], var)
        else:
            outputs = [body.whole(PortRef(node.id, port)) for port in node.output_ports]
            context, reads = body.context(node)
            inputs = [body.name(value_name(graph, ref)) for ref in node.input_refs]
            targets = inputs[0] if len(inputs) == 1 else f"({', '.join(inputs)})"
            body.emit(
                f"{targets} = {_layer(node)}.inverse({', '.join(outputs)}{context})",
                outputs + reads,
            )
            for ref, var in zip(node.input_refs, inputs, strict=True):
                body.bind(ref, var)
    data = [body.whole(PortRef(name, "value")) for name in graph.data_inputs]
    lines = body.released(set(graph.context_inputs) | set(data))
    if len(data) == 1:
        return [*lines, f"{INDENT}return {data[0]}"]
    items = ", ".join(f"{name!r}: {var}" for name, var in zip(graph.data_inputs, data, strict=True))
    return [*lines, f"{INDENT}return {{{items}}}"]
