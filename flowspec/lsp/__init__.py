"""``flowspec lsp``: a language server for specs (the Language Server Protocol over stdio).

While a spec is typed, an editor gets flowspec's own diagnostics on the unsaved text, hover
(a kind's description as ``flowspec nodes`` prints it, a code's explanation as ``flowspec
explain`` prints it, a node's row of the bookkeeping table), completion (node kinds, the
part kinds a field takes, a kind's fields, the ids and ports a reference may name), go to
definition (references, block uses, ports) and a quick fix for each did-you-mean hint.

The features are plain functions over an :class:`~flowspec.lsp.analysis.Analysis` of the
text, in code points (``analysis``, ``hover``, ``completion``, ``definition``, ``actions``);
``server`` is the only module that speaks the protocol (pygls, the ``lsp`` extra) and
``client`` a small client over a subprocess's pipes for tests and benchmarks. Like the rest
of the spec layer, none of it imports torch.
"""
