"""Conditional flow density: a chain of bijective node kinds on top of a conditional Gaussian.

Conditional normalizing flows (Winkler et al. 2019, "Learning Likelihoods with Conditional
Normalizing Flows", arXiv:1912.00042) as a density part: ``v = f(e; c)`` with
``e ~ N(mu(c), diag sigma(c)^2)`` and ``f`` the generation direction of ``layers`` (any
bijective node kinds on the event; couplings see the context), repeated ``repeat`` times.
The layers may change the shape in between if they end at the event's (a squeeze, steps at
the coarser scale, an unsqueeze: SurVAE's and Flow++'s dequantization flows).
Then

    log q(v | c) = log N(f^-1(v; c); mu(c), sigma(c)) + sum of the layers' contributions,

and a draw is reparameterised (the Gaussian draw pushed through ``f``), so it can be a VAE
posterior (Rezende and Mohamed 2015, "Variational Inference with Normalizing Flows",
arXiv:1505.05770: planar layers, or couplings), a dequantizer (Flow++, Ho et al. 2019,
arXiv:1902.00275) or a decoder. A proposal (encoder, dequantizer) scores its draws along
generation, so layers without an inference direction (planar, Sylvester) serve there; a
decoder scores given values, which needs every layer's inference direction (E807).

With ``draw_direction: inference`` the roles of the two directions swap: the layers as
written map the base to values, so a draw runs each layer's inference pass in order and a
given value is scored through their generation passes,

    log q(v | c) = log N(e; mu(c), sigma(c)) - sum of the layers' contributions at e ... v.

This is Flow++'s dequantizer (Ho et al. 2019, Sec. 3.1): its logistic-mixture couplings are
explicit in the direction that draws, where the default would draw by bisection. Every
layer then needs an inference direction (E809), and a decoder a generation direction.

The layers are conditioned on the density's context (couplings and autoregressive layers
read it; planar, radial and Sylvester layers with a ``net`` compute their parameters from
it: :mod:`flowspec.nodes._amortized`), or, with ``layer_context: hidden``, on the last
hidden features ``h`` of the base's network, computed once per example and shared with the
base's mean and scale: IAF's context ``h`` (Kingma et al. 2016, arXiv:1606.04934), and
Rezende and Mohamed's amortization, where the encoder's last hidden layer gives every flow
parameter by a linear map (``net: {kind: mlp, hidden: []}`` on each layer).

Example::

    encoder:
      kind: flow
      net: {kind: mlp, hidden: [128]}          # the base's mean and scale from the context
      layers:
        - {kind: affine_coupling, net: {kind: mlp, hidden: [64]}}
        - {kind: reverse}
      repeat: 4

    encoder:                                    # an amortized planar posterior
      kind: flow
      net: {kind: mlp, hidden: [256]}
      layer_context: hidden                     # each layer's parameters linear in h
      layers: [{kind: planar, net: {kind: mlp, hidden: []}}]
      repeat: 10
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import Field, ValidationError

from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import REAL, PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.densities._checks import check_continuous_event
from flowspec.densities.gaussian import GaussianSpec
from flowspec.diagnostics import Reporter, did_you_mean
from flowspec.nodes._checks import check_unused_settings

if TYPE_CHECKING:
    from flowspec.layers.densities.flow import FlowDensity
    from flowspec.layers.densities.gaussian import Gaussian

__all__ = ["FlowDensitySpec"]


class FlowDensitySpec(GaussianSpec):
    """A conditional Gaussian pushed through bijective layers (given the context)."""

    kind: Literal["flow"] = "flow"  # type: ignore[assignment]  # a variant kind
    layers: list[dict[str, Any]] = Field(
        min_length=1,
        description="Bijective node specs applied in order in inference (v -> e), without "
        "'in'; couplings get the context. Their generation direction draws v.",
    )
    repeat: int = Field(default=1, ge=0, le=256, description="How often the layers repeat.")
    draw_direction: Literal["generation", "inference"] = Field(
        default="generation",
        description="Which pass of the layers turns a base draw into a value: 'generation' "
        "(the layers as written map values to the base; draws invert them), or 'inference' "
        "(the layers as written map the base to values: draws run their explicit pass, e.g. "
        "logistic-mixture couplings in Flow++'s dequantizer, and scoring given values "
        "inverts them).",
    )
    layer_context: Literal["context", "hidden"] = Field(
        default="context",
        description="What the layers are conditioned on (amortized planar, radial, Sylvester "
        "layers with a net; couplings; autoregressive layers): 'context', the density's own "
        "(a VAE encoder's: the data); 'hidden', the last hidden features h of the base's net "
        "(an mlp), computed once and shared with the base's mean and scale (IAF's h).",
    )
    summary = "conditional flow: v = f(e; c), e ~ N(mu(c), diag sigma(c)^2)"
    reference = (
        "Winkler et al. 2019, Learning Likelihoods with Conditional Normalizing Flows, "
        "arXiv:1912.00042"
    )
    examples = (
        Example(
            {
                "net": {"hidden": [4]},
                "layers": [
                    {"kind": "affine_coupling", "net": {"hidden": [4]}},
                    {"kind": "reverse"},
                ],
                "repeat": 2,
            },
            (PortInfo((2,)),),
            PortInfo((2,)),
            label="couplings",
        ),
        Example(
            {"layers": [{"kind": "planar", "inverse": {"method": "newton", "tol": 1.0e-12}}]},
            (PortInfo((2,)),),
            label="planar",
        ),
        Example(
            {
                "net": {"hidden": [4]},
                "layer_context": "hidden",
                "layers": [
                    {"kind": "planar", "net": {"hidden": []}, "inverse": {"tol": 1.0e-12}},
                    {"kind": "radial", "net": {"hidden": [3]}},
                ],
                "repeat": 2,
            },
            (PortInfo((2,)),),
            PortInfo((3,)),
            label="amortized on hidden features",
        ),
        Example(
            {
                "net": {"hidden": [4]},
                "draw_direction": "inference",
                "layers": [
                    {
                        "kind": "coupling",
                        "transformer": {
                            "kind": "logistic_mixture",
                            "components": 2,
                            "inverse": {"tol": 1.0e-10, "max_iter": 80},
                        },
                        "conditioner": {"kind": "mlp", "hidden": [4]},
                    },
                    {"kind": "reverse"},
                ],
                "repeat": 2,
            },
            (PortInfo((2,)),),
            PortInfo((2,)),
            label="drawn by inference passes (Flow++ dequantizer)",
        ),
    )

    def chain(self, check: NodeCheck | None, *field: str | int) -> list[NodeSpec] | None:
        """The layers' specs, each repetition's own (None after reporting a problem)."""
        from flowspec.core.registry import node_kinds

        kinds = node_kinds()
        specs: list[NodeSpec] = []
        for index, entry in enumerate(self.layers):
            where = (*field, "layers", index)
            kind = entry.get("kind")
            cls = kinds.get(kind) if isinstance(kind, str) else None
            problem, hint = None, None
            if cls is None:
                problem = f"unknown node kind {kind!r} in a flow density"
                hint = did_you_mean(str(kind), kinds)
            elif not cls.bijective or cls.terminal or cls.stochastic_forward:
                problem = (
                    f"a flow density's layers must be bijections, {kind} is {cls.category().value}"
                )
            elif "in" in entry or "context" in entry:
                problem = "layers of a flow density take no 'in' or 'context' (the chain is wired for them)"
            else:
                try:
                    spec = cls.model_validate(entry)
                except ValidationError as error:
                    problem = f"invalid {kind} layer: {error.errors()[0]['msg']}"
                else:
                    specs.append(spec)
            if problem is not None:
                if check is not None:
                    check.error("E804", problem, *where, hint=hint or "see `flowspec nodes`")
                return None
        return [spec.for_repetition(r) for r in range(self.repeat) for spec in specs]

    def layer_context_port(self, context_features: int) -> PortInfo | None:
        """The flat context the layers are given: none without a context, else the
        density's, or the base network's last hidden features."""
        if not context_features:
            return None
        if self.layer_context == "hidden" and isinstance(self.net, MLPSpec) and self.net.hidden:
            return PortInfo((self.net.hidden[-1],))
        return PortInfo((context_features,))

    @property
    def draws_by_inference(self) -> bool:
        """Whether draws run the layers' inference passes (``draw_direction: inference``)."""
        return self.draw_direction == "inference"

    def _scoring_pass(self, spec: NodeSpec) -> Cost:
        """What scoring a given value costs at one layer: its inference pass, or with
        ``draw_direction: inference`` its generation pass."""
        costs = spec.costs()
        return costs.generation if self.draws_by_inference else costs.inference

    def likelihood(self) -> Likelihood:
        """The weakest class of its layers (an iterative layer makes it exact to a
        tolerance; so does an iterative generation pass when scoring runs it)."""
        chain = self.chain(None) or []
        if not self.draws_by_inference:
            return max([Likelihood.EXACT, *(spec.likelihood() for spec in chain)])
        iterative = any(self._scoring_pass(spec) is Cost.ITERATIVE for spec in chain)
        return max(
            [Likelihood.TOLERANCE if iterative else Likelihood.EXACT]
            + [spec.likelihood() for spec in chain if spec.likelihood() > Likelihood.TOLERANCE]
        )

    def tolerance(self) -> str | None:
        chain = self.chain(None) or []
        if not self.draws_by_inference:
            return next((t for spec in chain if (t := spec.tolerance())), None)
        return next(
            (
                f"layer {index % len(self.layers)} ({spec.kind}) inverted iteratively"
                for index, spec in enumerate(chain)
                if self._scoring_pass(spec) is Cost.ITERATIVE
            ),
            None,
        )

    def costs(self) -> Costs:
        """Its layers' dearest: scoring runs their inference, drawing their generation
        (the other way round with ``draw_direction: inference``)."""
        costs = [spec.costs() for spec in self.chain(None) or []]
        inference = max((c.inference for c in costs), default=Cost.ONE_PASS)
        generation = max((c.generation for c in costs), default=Cost.ONE_PASS)
        if self.draws_by_inference:
            return Costs(generation, inference)
        return Costs(inference, generation)

    def inference_remedy(self) -> str:
        for index, spec in enumerate(self.chain(None) or []):
            if self._scoring_pass(spec) is Cost.UNAVAILABLE:
                return (
                    f"its layer {index % len(self.layers)} ({spec.kind}): {spec.inference_remedy()}"
                )
        return ""

    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        if not check_continuous_event(self.kind, event, check, *field):
            return False
        if self.layer_context == "hidden" and not (
            isinstance(self.net, MLPSpec) and self.net.hidden
        ):
            check.error(
                "E808",
                "layer_context: hidden conditions the layers on the last hidden layer of the "
                f"base's net, but its net ({self.net.describe()}) has none",
                *field,
                "layer_context",
                hint="give it net: {kind: mlp, hidden: [256]}, or use layer_context: context",
            )
            return False
        if self.repeat == 0:
            check_unused_settings(
                self,
                ("layers",),
                "repeat: 0 applies them no times, so the density is its Gaussian base",
                check,
                *field,
                hint="use {kind: gaussian}, or repeat: 1 or more",
            )
        chain = self.chain(check, *field)
        if chain is None or not self._check_draw_direction(chain, check, *field):
            return False
        info = PortInfo(event.shape, REAL)
        leaves = 0  # the layer that last took the values off the real line
        for index, spec in enumerate(chain):
            where = check.path + (*field, "layers", index % len(self.layers))
            # Each layer entry is reported once, not once per repetition.
            reporter = check.reporter if index < len(self.layers) else Reporter()
            inner = NodeCheck(reporter, check.node, where)
            spec.check_static(inner)
            outputs = None if inner.errors else spec.infer((info,), None, inner)
            if inner.errors and reporter is not check.reporter:  # a repetition's own error
                check.reporter.diagnostics.extend(reporter.diagnostics)
            if outputs is None or len(outputs) != 1:
                return False  # the layer reported it
            if info.support.is_real_line and not outputs[0].support.is_real_line:
                leaves = index
            info = outputs[0]
        if info.shape != event.shape:
            check.error(
                "E805",
                f"the flow density's layers end at {list(info.shape)}, not at its event "
                f"{event} (they may change the shape in between, as a squeeze, and must "
                "undo it)",
                *field,
                "layers",
                len(self.layers) - 1,
            )
            return False
        if not info.support.is_real_line:
            # Generation inverts the layers on Gaussian draws, which fill the whole line:
            # draws outside the layers' image have no preimage (NaN), and the log-density
            # puts the base's mass outside the image nowhere.
            at = leaves % len(self.layers)
            name = " ".join(
                str(self.layers[at][key]) for key in ("kind", "fn") if key in self.layers[at]
            )
            check.error(
                "E806",
                f"layer {at} ({name}) of the flow density takes its values off the real "
                f"line: the layers map it onto {info.support}, but the Gaussian base draws "
                "values on the whole line, which the layers cannot invert (NaN samples and "
                "log-densities)",
                *field,
                "layers",
                at,
                hint="end the layers on the whole real line, e.g. follow a sigmoid by a "
                "logit, or leave the bounded map out",
            )
            return False
        return True

    def _check_draw_direction(
        self, chain: list[NodeSpec], check: NodeCheck, *field: str | int
    ) -> bool:
        """With ``draw_direction: inference`` every draw runs every layer's inference
        pass, so each layer needs one (E809)."""
        if not self.draws_by_inference:
            return True
        for index, spec in enumerate(chain[: len(self.layers)]):
            if spec.costs().inference is Cost.UNAVAILABLE:
                check.error(
                    "E809",
                    f"layer {index} ({spec.kind}) of the flow density has no inference pass, "
                    "but with draw_direction: inference every draw runs each layer's "
                    "inference pass",
                    *field,
                    "layers",
                    index,
                    hint="use draw_direction: generation (the default), or give the layer "
                    "an inference pass: " + spec.inference_remedy(),
                )
                return False
        return True

    def check_scoring(self, check: NodeCheck, *field: str | int) -> bool:
        """The density of given values runs every layer from the values to the base (its
        inference direction; its generation direction with ``draw_direction: inference``):
        a layer without it (Sylvester, planar without ``inverse``) serves in proposals,
        which score their own draws, but not in a decoder (E807)."""
        ok = True
        direction = "generation" if self.draws_by_inference else "inference"
        for index, spec in enumerate((self.chain(None) or [])[: len(self.layers)]):
            if self._scoring_pass(spec) is not Cost.UNAVAILABLE:
                continue
            ok = False
            check.error(
                "E807",
                f"layer {index} ({spec.kind}) of the flow density has no {direction} pass, "
                "but this density scores given values, which runs every layer that way: "
                "log_prob would fail",
                *field,
                "layers",
                index,
                hint="use draw_direction: generation, or layers with both directions"
                if self.draws_by_inference
                else "give it inverse: {method: bisection, tol: 1.0e-6, max_iter: 100}"
                if "inverse" in type(spec).model_fields
                else "use layers with both directions here (radial, couplings, planar with "
                f"inverse: {{...}}); {spec.kind} layers serve in encoders and dequantizers, "
                "which only score their own draws",
            )
        return ok

    def density_parameter_count(self, event: PortInfo, context_features: int) -> int:
        chain = self.chain(None) or []
        context = self.layer_context_port(context_features)
        seen = self.layer_inputs(chain, event)
        layers = sum(
            spec.parameter_count((info,), context) for spec, info in zip(chain, seen, strict=True)
        )
        return super().density_parameter_count(event, context_features) + layers

    @staticmethod
    def layer_inputs(chain: list[NodeSpec], event: PortInfo) -> list[PortInfo]:
        """What each layer of a checked chain is given: the event, then each layer's output
        (a squeeze in the chain gives the layers after it its shape)."""
        info, seen = PortInfo(event.shape, REAL), []
        for spec in chain:
            seen.append(info)
            outputs = spec.infer((info,), None, NodeCheck(Reporter(), "", ()))
            assert outputs is not None, "check_event reported the problem"
            info = outputs[0]
        return seen

    def build(
        self, event: PortInfo, context_features: int, *, zero_init: bool = True
    ) -> FlowDensity:
        """The layers (conditioned on the flat context or the base network's features) on
        top of the Gaussian base (whose network's last layer starts at zero with
        ``zero_init``; the layers start at the identity either way)."""
        from flowspec.layers.densities.flow import FlowDensity

        chain = self.chain(None)
        assert chain is not None, "check_event reported the problem"
        context = self.layer_context_port(context_features)
        seen = self.layer_inputs(chain, event)
        layers = [spec.build((info,), context) for spec, info in zip(chain, seen, strict=True)]
        base = super().build(event, context_features, zero_init=zero_init)
        hidden = bool(context_features) and self.layer_context == "hidden"
        return FlowDensity(layers, cast("Gaussian", base), hidden, self.draws_by_inference)
