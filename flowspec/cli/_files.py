"""Writing output files without ever leaving a half-written one behind."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, overload

import typer

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_suffix", "prepare_output"]


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
