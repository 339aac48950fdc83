"""Data pushed to latent space beside the base distribution (``flowspec sample --latent``).

A trained flow maps the data onto its base distribution: the test data's latents (each
terminal node's input, :attr:`Trace.latents`) should look like draws from that
distribution. Where they do not (holes, heavy tails, a shifted mode) the flow has not
learnt the map; Dinh et al. 2017 (arXiv:1605.08803, RealNVP) show such pictures. One
figure per distribution node; noise of stochastic nodes on seeded generators.

Example::

    >>> import flowspec
    >>> from flowspec.train import load_dataset
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> split = load_dataset("moons", n_test=100).split("test")
    >>> figure = latent_figure(model, split, "prior")
    >>> [axes.get_legend().get_texts()[0].get_text() for axes in figure.axes]
    ["draws of 'prior' (standard_normal)", "test data at 'prior'"]
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from flowspec.core.layer import DistributionLayer
from flowspec.emit.runtime import FlowModel
from flowspec.spec.training import EVAL_SEED
from flowspec.train.data import Split
from flowspec.train.nll import model_dtype_device
from flowspec.train.plot import samples_figure
from flowspec.train.state import seeded

__all__ = ["latent_figure"]


@torch.no_grad()
def latent_figure(
    model: FlowModel, split: Split, distribution: str, *, title: str | None = None
) -> Figure:
    """The latents of ``split`` at the terminal node ``distribution`` beside as many draws
    of that node (given the same context values, for a conditional base), on one range."""
    dtype, device = model_dtype_device(model)
    split = split.to(device=device, dtype=dtype)
    inputs = split.inputs() if model.CONTEXT_INPUTS else (split.x,)
    was_training = model.training
    model.eval()
    try:
        with seeded(EVAL_SEED):
            trace = model.trace(*inputs)
            latent = trace.latents[distribution]
            node = model.checked.graph.nodes[distribution]
            context = None
            if node.context is not None:
                context = trace.values.get(str(node.context), trace.values.get(node.context.node))
            base = model.nodes[distribution]
            assert isinstance(base, DistributionLayer), f"{distribution} is a distribution node"
            drawn = base.sample(len(latent), context=context)
    finally:
        model.train(was_training)
    return samples_figure(
        {f"test data at '{distribution}'": latent.cpu()},
        data=drawn.cpu(),
        data_label=f"draws of '{distribution}' ({node.kind})",
        title=title,
        variable="z",
    )
