"""The ``flowspec`` command line: validate, render, compile, schema, nodes, train, sample.

One module per verb; this package assembles them into the Typer application ``app``
(the ``flowspec`` console script, also ``python -m flowspec``).
"""

from flowspec.cli.app import app

__all__ = ["app"]
