"""Emit an optimized :class:`~flowspec.optimize.Program` as straight-line PyTorch.

Values flowing between operations are tracked at compile time as *pieces*: tensors
holding some of a value's feature positions (event axis 0) in some order. A folded
permutation renames positions, a folded split or concat regroups pieces, a coupling takes
its kept and transformed parts from the pieces and leaves two pieces behind; a layer that
needs the whole tensor gets the pieces joined (a view; a ``cat`` through ``self._join``, as
generated code reads no globals, so torch.compile inlines it; or one gather by an
index table registered as a non-persistent buffer ``fold_index_<k>``). None of this moves
data that the literal code would not have moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flowspec.diagnostics import Locator
from flowspec.graph.model import FlowGraph, GraphNode, PortRef
from flowspec.optimize.program import AffineChain, Call, Couple, Op, Permute, Program, Regroup

__all__ = ["OptimizedBody", "emit_log_prob", "emit_generate"]

_INDENT = "        "
#: Up to how many runs a selection is joined with ``cat``; more take one gather.
_MAX_RUNS = 4


@dataclass(frozen=True)
class Piece:
    """A tensor variable holding the features ``positions`` (in column order)."""

    var: str
    positions: tuple[int, ...]


@dataclass
class OptimizedBody:
    """The statements of one method, with what each reads (for releasing variables)."""

    graph: FlowGraph
    locator: Locator | None
    tables: dict[str, list[int]]
    statements: list[tuple[str, list[str]]] = field(default_factory=list)
    values: dict[PortRef, list[Piece]] = field(default_factory=dict)
    #: The folded permutations a value went through since a layer last read it.
    renamed: dict[PortRef, list[GraphNode]] = field(default_factory=dict)
    counter: int = 0

    # -- statements and names ---------------------------------------------------------

    def emit(self, line: str, reads: Sequence[str] = ()) -> None:
        self.statements.append((f"{_INDENT}{line}", list(reads)))

    def comment(self, op: Op) -> None:
        from flowspec.emit.codegen import _comment

        for node in op.nodes:
            self.statements.append((_comment(node, self.locator), []))
        if op.note:
            self.statements.append((f"{_INDENT}#   optimized: {op.note}", []))
        if (isinstance(op, Couple) and op.direct) or (isinstance(op, Call) and op.parts_direct):
            self.statements.append(
                (
                    f"{_INDENT}#   optimized: conditioner and transformer called directly "
                    "(no nn.Module.__call__)",
                    [],
                )
            )

    def fresh(self) -> str:
        """A temporary's name (``v__<k>``: node ids never contain ``__``, and port names
        never start with a digit)."""
        self.counter += 1
        return f"v__{self.counter}"

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
        features = self.features(ref)
        self.values[ref] = [Piece(var, tuple(range(features or 0)))]

    def select(self, ref: PortRef, wanted: list[int]) -> str:
        """A variable holding the features ``wanted`` (in that order) of ``ref``'s value.
        Features scattered over several pieces are joined once (the value is then held
        as that one tensor) and gathered from it."""
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
            return self._assign(self._run(piece, first, last, step), [piece.var])
        reads = sorted({pieces[run[0]].var for run in runs})
        if len(runs) <= _MAX_RUNS:
            parts = ", ".join(self._run(pieces[k], a, b, s) for k, a, b, s in runs)
            return self._assign(f"self._join({parts})", reads)
        if len(pieces) > 1:
            joined = self._assign(f"self._join({', '.join(p.var for p in pieces)})", reads)
            positions = tuple(pos for piece in pieces for pos in piece.positions)
            self.values[ref] = [Piece(joined, positions)]
            return self.select(ref, wanted)
        column = {pos: col for col, pos in enumerate(pieces[0].positions)}
        index = self.table([column[pos] for pos in wanted])
        return self._assign(f"{pieces[0].var}.index_select(1, {index})", reads)

    @staticmethod
    def _run(piece: Piece, first: int, last: int, step: int) -> str:
        if step >= 0:
            if first == 0 and last == len(piece.positions) - 1:
                return piece.var
            return f"{piece.var}[:, {first}:{last + 1}]"
        if last == 0 and first == len(piece.positions) - 1:
            return f"{piece.var}.flip(1)"
        return f"{piece.var}[:, {last}:{first + 1}].flip(1)"

    def _assign(self, expression: str, reads: list[str]) -> str:
        var = self.fresh()
        self.emit(f"{var} = {expression}", reads)
        return var

    def whole(self, ref: PortRef) -> str:
        """A variable holding ``ref``'s whole value in order (joined once, then reused)."""
        features = self.features(ref)
        if features is None:
            return self.values[ref][0].var
        var = self.select(ref, list(range(features)))
        self.values[ref] = [Piece(var, tuple(range(features)))]
        return var

    def restrict(self, pieces: list[Piece], low: int, high: int) -> list[Piece]:
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
                var = self._assign(f"{piece.var}[:, {columns[0]}:{columns[-1] + 1}]", [piece.var])
                out.append(Piece(var, positions))
            else:
                index = self.table(columns)
                out.append(
                    Piece(
                        self._assign(f"{piece.var}.index_select(1, {index})", [piece.var]),
                        positions,
                    )
                )
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
        from flowspec.emit.codegen import _release_after

        free = _release_after([reads for _, reads in self.statements], keep)
        lines = []
        for (line, _), names in zip(self.statements, free, strict=True):
            lines.append(line)
            if names:
                lines.append(f"{_INDENT}del {', '.join(names)}")
        return lines


def _call(node: GraphNode, method: str, direct: bool) -> str:
    base = f"nodes[{node.id!r}]"
    return f"{base}.{method}" if direct or method != "forward" else base


def _parts_direct(op: Op) -> str:
    """The argument that has a whole coupling call its parts as methods."""
    return ", direct=True" if isinstance(op, Call) and op.parts_direct else ""


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


class _Sum:
    """The running ``logp`` of the inference method."""

    def __init__(self, body: OptimizedBody) -> None:
        self.body = body
        self.started = False

    def add(self, var: str) -> None:
        line = f"logp = logp + {var}" if self.started else f"logp = {var}"
        self.body.emit(line, [var])
        self.started = True


def _sink(node: GraphNode) -> str:
    return "_" if node.node_spec.preserves_volume() else "contribution"


def emit_log_prob(
    program: Program, locator: Locator | None, tables: dict[str, list[int]]
) -> list[str]:
    """The body of the optimized ``_log_prob``: inference with the running total only."""
    graph = program.graph
    body = OptimizedBody(graph, locator, tables)
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
                body.values[PortRef(node.id, port)] = body.restrict(pieces, low, high)
        elif isinstance(op, Regroup):
            joined = []
            for ref, (low, _) in zip(node.input_refs, _ranges(op.sizes), strict=True):
                joined += body.shift(body.values[ref], low)
            body.values[PortRef(node.id, node.output_ports[0])] = joined
        elif isinstance(op, Couple):
            ref = node.input_refs[0]
            if ref in body.renamed:
                folded = ", ".join(f"{n.id} ({n.kind})" for n in body.renamed[ref])
                body.statements.append((f"{_INDENT}#   its index sets fold in: {folded}", []))
            a, b = body.select(ref, op.keep), body.select(ref, op.change)
            context, reads = body.context(node)
            changed, sink = body.fresh(), _sink(node)
            direct = ", direct=True" if op.direct else ""
            body.emit(
                f"{changed}, {sink} = nodes[{node.id!r}].couple({a}, {b}{context}{direct})",
                [a, b, *reads],
            )
            if sink != "_":
                total.add(sink)
            body.values[PortRef(node.id, node.output_ports[0])] = [
                Piece(a, tuple(op.keep)),
                Piece(changed, tuple(op.change)),
            ]
        elif isinstance(op, AffineChain):
            x = body.whole(op.first.input_refs[0])
            out = PortRef(op.last.id, op.last.output_ports[0])
            var = body.fresh()
            layers = ", ".join(f"nodes[{n.id!r}]" for n in op.nodes)
            body.emit(f"{var}, contribution = self._affine_chain({x}, {layers})", [x])
            total.add("contribution")
            body.bind(out, var)
        else:
            assert isinstance(op, Call)
            _emit_call(body, total, op)
    lines = body.released(set(graph.data_inputs) | set(graph.context_inputs))
    return [*lines, f"{_INDENT}return logp"]


def _emit_call(body: OptimizedBody, total: _Sum, op: Call) -> None:
    node = op.first
    args = [body.whole(ref) for ref in node.input_refs]
    context, reads = body.context(node)
    call = f"{_call(node, 'forward', op.direct)}({', '.join(args)}{context}{_parts_direct(op)})"
    if node.node_spec.terminal:
        body.emit(f"contribution = {call}", args + reads)
        total.add("contribution")
        return
    outputs = [body.fresh() for _ in node.output_ports]
    targets = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
    sink = _sink(node)
    body.emit(f"{targets}, {sink} = {call}", args + reads)
    if sink != "_":
        total.add(sink)
    for port, var in zip(node.output_ports, outputs, strict=True):
        body.bind(PortRef(node.id, port), var)


def _output(op: Op) -> PortRef:
    """The value an operation of nodes with one output ends in."""
    return PortRef(op.last.id, op.last.output_ports[0])


def emit_generate(
    program: Program, locator: Locator | None, tables: dict[str, list[int]]
) -> list[str]:
    """The body of the optimized ``_generate``: latents -> data, in generation order."""
    graph = program.graph
    body = OptimizedBody(graph, locator, tables)
    for name in graph.context_inputs:
        body.bind(PortRef(name, "value"), name)
    op_of = program.op_of()
    done: set[int] = set()
    for node_id in graph.generation_order:
        op = op_of.get(node_id)
        if op is None or id(op) in done:
            continue
        done.add(id(op))
        body.comment(op)
        node = op.first
        if isinstance(op, Permute):
            out = _output(op)
            back = [Piece(p.var, tuple(op.order[q] for q in p.positions)) for p in body.values[out]]
            body.values[node.input_refs[0]] = back
        elif isinstance(op, Regroup) and op.splits:
            joined = []
            for port, (low, _) in zip(node.output_ports, _ranges(op.sizes), strict=True):
                joined += body.shift(body.values[PortRef(node.id, port)], low)
            body.values[node.input_refs[0]] = joined
        elif isinstance(op, Regroup):
            pieces = body.values[_output(op)]
            for ref, (low, high) in zip(node.input_refs, _ranges(op.sizes), strict=True):
                body.values[ref] = body.restrict(pieces, low, high)
        elif isinstance(op, Couple):
            out = _output(op)
            a, z_b = body.select(out, op.keep), body.select(out, op.change)
            context, reads = body.context(node)
            b = body.fresh()
            direct = ", direct=True" if op.direct else ""
            body.emit(
                f"{b} = nodes[{node.id!r}].uncouple({a}, {z_b}{context}{direct})", [a, z_b, *reads]
            )
            body.values[node.input_refs[0]] = [Piece(a, tuple(op.keep)), Piece(b, tuple(op.change))]
        elif isinstance(op, AffineChain):
            z = body.whole(_output(op))
            var = body.fresh()
            layers = ", ".join(f"nodes[{n.id!r}]" for n in op.nodes)
            body.emit(f"{var} = self._affine_chain_inverse({z}, {layers})", [z])
            body.bind(op.first.input_refs[0], var)
        elif node.node_spec.terminal:
            context, reads = body.context(node)
            var = body.fresh()
            body.emit(
                f"{var} = latents[{node.id!r}] if {node.id!r} in latents "
                f"else nodes[{node.id!r}].sample(n{context})",
                reads,
            )
            body.bind(node.input_refs[0], var)
        else:
            outputs = [body.whole(PortRef(node.id, port)) for port in node.output_ports]
            context, reads = body.context(node)
            inputs = [body.fresh() for _ in node.input_refs]
            targets = inputs[0] if len(inputs) == 1 else f"({', '.join(inputs)})"
            body.emit(
                f"{targets} = nodes[{node.id!r}].inverse({', '.join(outputs)}{context}{_parts_direct(op)})",
                outputs + reads,
            )
            for ref, var in zip(node.input_refs, inputs, strict=True):
                body.bind(ref, var)
    data = [body.whole(PortRef(name, "value")) for name in graph.data_inputs]
    keep = set(graph.context_inputs)
    lines = body.released(keep | set(data))
    if len(data) == 1:
        return [*lines, f"{_INDENT}return {data[0]}"]
    items = ", ".join(f"{name!r}: {var}" for name, var in zip(graph.data_inputs, data, strict=True))
    return [*lines, f"{_INDENT}return {{{items}}}"]
