"""``python -m flowspec``: the command line."""

from flowspec.cli import app

app(prog_name="flowspec")
