"""Node kinds: one file per kind, each with its spec model, shape rule and facts.

To add a kind, add a module here defining a :class:`~flowspec.core.node.NodeSpec`
subclass that states its facts and declares its examples, and its torch module under
``flowspec/layers`` with the same file name; the registry finds it, the schema, the CLI,
the compiler and the contract tests pick it up (ARCHITECTURE.md, "Node kinds").
"""
