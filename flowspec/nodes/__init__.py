"""Node kinds: one file per kind, each with its spec model, shape rule and torch module.

To add a kind, add a module here defining a :class:`~flowspec.core.node.NodeSpec`
subclass; the registry finds it, the schema, the CLI and the compiler pick it up.
"""
