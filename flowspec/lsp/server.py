"""The language server: the Language Server Protocol over stdio with pygls.

Each open spec is checked on its unsaved text: a change waits :data:`DEBOUNCE_SECONDS` for
the next one (typing does not start a check per key), then the whole text is loaded and
checked and every diagnostic published with its code, its hint and the range of the token
it is about. Hover, definition and code actions use the analysis of the text as it is at
the request (checked again first if it changed); completion loads the text with a marker
at the cursor (:mod:`flowspec.lsp.completion`). Positions are converted between the
client's units (UTF-16 unless negotiated otherwise) and code points here only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

import flowspec
from flowspec.diagnostics import Diagnostic
from flowspec.lsp.actions import fixes
from flowspec.lsp.analysis import Analysis, Position, Span, analyse
from flowspec.lsp.completion import ItemKind, complete
from flowspec.lsp.definition import definition
from flowspec.lsp.hover import hover

__all__ = ["FlowspecServer", "make_server", "DEBOUNCE_SECONDS"]

Answer = TypeVar("Answer")

#: How long a change waits for the next before the text is checked.
DEBOUNCE_SECONDS = 0.15
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
_ITEM_KIND: dict[ItemKind, types.CompletionItemKind] = {
    "kind": types.CompletionItemKind.Class,
    "field": types.CompletionItemKind.Field,
    "reference": types.CompletionItemKind.Reference,
    "block": types.CompletionItemKind.Module,
    "value": types.CompletionItemKind.EnumMember,
}


class _Positions:
    """Converts code-point positions of one text to the client's units and back."""

    def __init__(self, document: TextDocument, text: str) -> None:
        self.document = document
        self.ascii = text.isascii()  # then every unit count is the same
        self.lines: Sequence[str] = () if self.ascii else document.lines

    def to_client(self, position: Position) -> types.Position:
        if self.ascii:
            return types.Position(line=position[0], character=position[1])
        codec = self.document.position_codec
        return codec.position_to_client_units(self.lines, ServerTextPosition(*position))

    def range(self, span: Span) -> types.Range:
        return types.Range(start=self.to_client(span.start), end=self.to_client(span.end))

    def from_client(self, position: types.Position) -> Position:
        if self.ascii:
            return position.line, position.character
        found = self.document.position_codec.position_from_client_units(self.lines, position)
        return found.line, found.character


class FlowspecServer(LanguageServer):
    """A pygls server that keeps the last analysis of each open spec."""

    def __init__(self) -> None:
        super().__init__("flowspec", flowspec.__version__)
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}

    def analysis(self, uri: str) -> tuple[Analysis, _Positions]:
        """The analysis of the document's current text (made now if the text changed)."""
        document = self.workspace.get_text_document(uri)
        text = document.source
        known = self.analyses.get(uri)
        if known is None or known.text != text:
            known = analyse(text, document.path or uri)
            self.analyses[uri] = known
        return known, _Positions(document, text)

    def at(
        self,
        params: types.HoverParams | types.DefinitionParams,
        feature: Callable[[Analysis, Position], Answer],
    ) -> tuple[Answer | None, _Positions]:
        """What ``feature`` answers at the request's position, and the positions used."""
        analysis, positions = self.analysis(params.text_document.uri)
        if not analysis.is_spec:
            return None, positions
        return feature(analysis, positions.from_client(params.position)), positions

    def publish(self, uri: str) -> None:
        """Check the document's text and publish its diagnostics."""
        analysis, positions = self.analysis(uri)
        document = self.workspace.get_text_document(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=document.version,
                diagnostics=[lsp_diagnostic(analysis, d, positions) for d in analysis.diagnostics]
                if analysis.is_spec
                else [],
            )
        )

    def schedule(self, uri: str) -> None:
        """Publish after :data:`DEBOUNCE_SECONDS`, unless another change comes first."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later() -> None:
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self.pending.pop(uri, None)
            self.publish(uri)

        self.pending[uri] = asyncio.get_running_loop().create_task(later())


def lsp_diagnostic(
    analysis: Analysis, diagnostic: Diagnostic, positions: _Positions
) -> types.Diagnostic:
    """A flowspec diagnostic as the protocol's: range, severity, code, message and hint."""
    node = f"node '{diagnostic.node}': " if diagnostic.node else ""
    hint = f"\nhint: {diagnostic.hint}" if diagnostic.hint else ""
    return types.Diagnostic(
        range=positions.range(analysis.diagnostic_span(diagnostic)),
        message=f"{node}{diagnostic.message}{hint}",
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        source="flowspec",
    )


def make_server() -> FlowspecServer:
    """The server with every feature registered."""
    server = FlowspecServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FlowspecServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FlowspecServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: FlowspecServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FlowspecServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: FlowspecServer, params: types.HoverParams) -> types.Hover | None:
        text, _ = ls.at(params, hover)
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[" ", ".", ","]),
    )
    def on_completion(ls: FlowspecServer, params: types.CompletionParams) -> types.CompletionList:
        document = ls.workspace.get_text_document(params.text_document.uri)
        known = ls.analyses.get(params.text_document.uri)  # as of the last check: enough
        if not (known or ls.analysis(document.uri)[0]).is_spec:
            return types.CompletionList(is_incomplete=False, items=[])
        positions = _Positions(document, document.source)
        found = complete(document.source, positions.from_client(params.position))
        edit_range = positions.range(found.span)
        items = [
            types.CompletionItem(
                label=item.label,
                kind=_ITEM_KIND[item.kind],
                detail=item.detail or None,
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=item.documentation
                )
                if item.documentation
                else None,
                text_edit=types.TextEdit(range=edit_range, new_text=item.insert or item.label),
            )
            for item in found.items
        ]
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: FlowspecServer, params: types.DefinitionParams) -> types.Location | None:
        span, positions = ls.at(params, definition)
        if span is None:
            return None
        return types.Location(uri=params.text_document.uri, range=positions.range(span))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def on_code_action(
        ls: FlowspecServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        uri = params.text_document.uri
        analysis, positions = ls.analysis(uri)
        wanted = Span(
            positions.from_client(params.range.start), positions.from_client(params.range.end)
        )
        actions: list[types.CodeAction] = []
        for diagnostic in analysis.diagnostics if analysis.is_spec else []:
            span = analysis.diagnostic_span(diagnostic)
            if span.end < wanted.start or wanted.end < span.start:
                continue
            for fix in fixes(analysis, diagnostic):
                edit = types.TextEdit(range=positions.range(fix.span), new_text=fix.new_text)
                actions.append(
                    types.CodeAction(
                        title=fix.title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diagnostic(analysis, diagnostic, positions)],
                        edit=types.WorkspaceEdit(changes={uri: [edit]}),
                        is_preferred=True,
                    )
                )
        return actions

    return server


def main() -> None:
    """Serve over stdin and stdout until the client says exit."""
    make_server().start_io()
