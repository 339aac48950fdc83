"""Writing output files without ever leaving a half-written one behind."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, overload

import typer

from flowspec.cli._output import fail

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "check_suffix",
    "prepare_output",
    "refuse_overwriting",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def prepare_output(path: Path) -> Path:
    """Create the folder an output file goes into."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` on a temporary file next to ``path``, then rename it into place
    (with the permissions a new file would get), so ``path`` is never half-written."""
    prepare_output(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:  # name the file asked for, not the temporary one
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, lambda file: file.write(text.encode("utf-8")))


@overload
def check_suffix(path: Path, allowed: tuple[str, ...]) -> Path: ...
@overload
def check_suffix(path: None, allowed: tuple[str, ...]) -> None: ...
def check_suffix(path: Path | None, allowed: tuple[str, ...]) -> Path | None:
    """``path`` unchanged when its suffix is allowed (case-insensitive), else a usage error
    (exit 2) listing the allowed suffixes."""
    if path is not None and path.suffix.lower() not in allowed:
        raise typer.BadParameter(
            f"'{path}' has an unsupported suffix; use one of: {', '.join(allowed)}"
        )
    return path


def refuse_overwriting(outputs: Iterable[Path | None], inputs: dict[str, Path | None]) -> None:
    """Exit with a usage error (2), before anything is written, when an output path names a
    file the command reads (``inputs``: what it is -> its path): ``flowspec compile
    keep.yaml -o keep.yaml`` would replace the spec with generated Python."""
    for output in outputs:
        for what, source in inputs.items():
            if output is not None and source is not None and _same_file(output, source):
                fail(
                    f"refusing to write '{output}': it is the {what} this command reads, "
                    "which would be lost; choose another output path",
                    2,
                )


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one existing file (through links and relative paths too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: an output that is not there yet
        return False
