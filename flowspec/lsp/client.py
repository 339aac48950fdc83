"""A small Language Server Protocol client over a subprocess's pipes.

It starts a server command, frames JSON-RPC messages with ``Content-Length`` headers,
reads the server's messages on a thread and lets the caller send requests (waiting for
their answers) and notifications, and wait for notifications such as
``textDocument/publishDiagnostics``. It answers the server's own requests (configuration,
progress) with null. The tests and ``benchmarks/suites/bench_lsp.py`` talk to ``flowspec
lsp`` with it, as an editor would. Standard library only.

    with LspClient([sys.executable, "-m", "flowspec", "lsp"]) as client:
        client.initialize()
        client.open("file:///spec.yaml", text)
        diagnostics = client.diagnostics("file:///spec.yaml")
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, Any

__all__ = ["LspClient", "LspError"]

Message = dict[str, Any]


class LspError(RuntimeError):
    """The server answered a request with an error, or stopped, or kept silent too long."""


def _read_message(stream: IO[bytes]) -> Message | None:
    """One framed message, or None at the end of the stream."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    if length is None:
        raise LspError("a message without Content-Length")
    body: Message = json.loads(stream.read(length).decode("utf-8"))
    return body


class LspClient:
    """A client of the server started by ``command`` (stdin and stdout are its pipes)."""

    def __init__(self, command: Sequence[str], timeout: float = 30.0, **popen: Any) -> None:
        self.timeout = timeout
        self.process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, **popen
        )
        self._next_id = 0
        self._answers: dict[int, queue.Queue[Message]] = {}
        self._notifications: queue.Queue[tuple[float, Message]] = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while (message := _read_message(self.process.stdout)) is not None:
            if "method" in message and "id" in message:  # a request of the server's
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self._notifications.put((time.perf_counter(), message))
            else:
                self._answers.setdefault(message["id"], queue.Queue()).put(message)

    def _write(self, message: Message) -> None:
        body = json.dumps(message).encode("utf-8")
        with self._lock:
            assert self.process.stdin is not None
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        """Send a request and wait for its result."""
        with self._lock:
            self._next_id += 1
            number = self._next_id
            answer = self._answers.setdefault(number, queue.Queue())
        self._write({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        try:
            message = answer.get(timeout=self.timeout)
        except queue.Empty:
            raise LspError(f"no answer to {method} within {self.timeout} s") from None
        if "error" in message:
            raise LspError(f"{method}: {message['error']}")
        return message.get("result")

    def wait_for(
        self, method: str, accept: Callable[[Any], bool] = lambda params: True
    ) -> tuple[float, Any]:
        """The next notification ``method`` whose params ``accept`` takes (earlier ones
        are dropped), with the ``time.perf_counter()`` at which it arrived."""
        deadline = time.perf_counter() + self.timeout
        while True:
            try:
                arrived, message = self._notifications.get(
                    timeout=max(deadline - time.perf_counter(), 0.0)
                )
            except queue.Empty:
                raise LspError(f"no {method} within {self.timeout} s") from None
            if message["method"] == method and accept(message.get("params")):
                return arrived, message.get("params")

    def initialize(self, capabilities: Message | None = None) -> Any:
        """The handshake: ``initialize`` then ``initialized``; the server's capabilities."""
        result = self.request(
            "initialize",
            {"processId": None, "rootUri": None, "capabilities": capabilities or {}},
        )
        self.notify("initialized", {})
        return result["capabilities"]

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}},
        )

    def change(self, uri: str, text: str, version: int) -> None:
        """Replace the whole text (a full change)."""
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def diagnostics(self, uri: str, version: int | None = None) -> list[Message]:
        """The next diagnostics published for ``uri`` (for ``version``, if given)."""
        _, params = self.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and (version is None or p.get("version") == version),
        )
        found: list[Message] = params["diagnostics"]
        return found

    def at(self, method: str, uri: str, line: int, character: int, **extra: Any) -> Any:
        """A request about one position (hover, completion, definition)."""
        position = {"line": line, "character": character}
        return self.request(method, {"textDocument": {"uri": uri}, "position": position, **extra})

    def close(self) -> None:
        """Shut the server down (``shutdown``, ``exit``) and wait for it to end."""
        if self.process.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
                self.process.wait(timeout=self.timeout)
            except (LspError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> LspClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
