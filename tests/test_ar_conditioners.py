"""The autoregressive conditioners beyond MADE: masked_conv (PixelCNN), rnn (TAN-like GRU),
causal_transformer and wavenet: their mistakes are located errors. Each one's
autoregressive property (the zero pattern of its Jacobian against the order it declares),
its zero start, its context and the MAF and IAF layers it serves are the contract of every
conditioner (tests/test_contract_parts.py, tests/test_contract_nodes.py)."""

import pytest
from oracles import infer_node


@pytest.mark.parametrize(
    ("conditioner", "shape", "code", "where"),
    [
        ({"kind": "masked_conv", "kernel": 4}, (1, 4, 4), "E710", ("conditioner", "kernel")),
        ({"kind": "masked_conv"}, (16,), "E711", ("in",)),
        (
            {"kind": "causal_transformer", "dim": 10, "heads": 3},
            (4,),
            "E712",
            ("conditioner", "heads"),
        ),
        ({"kind": "wavenet"}, (1, 4, 4), "E713", ("in",)),
    ],
)
def test_mistakes_are_located_errors(conditioner, shape, code, where):
    outputs, reporter = infer_node({"kind": "autoregressive", "conditioner": conditioner}, shape)
    assert outputs is None
    (diagnostic,) = reporter.diagnostics
    assert diagnostic.code == code and diagnostic.path[-len(where) :] == where
