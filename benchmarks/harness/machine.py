"""What machine and software a benchmark ran on, as markdown."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata

__all__ = ["PACKAGES", "versions", "machine_markdown"]

PACKAGES = ("flowspec", "torch", "zuko", "nflows", "normflows", "numpy", "pydantic")


def _command(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"({' '.join(argv)} failed: {error})"


def versions() -> dict[str, str]:
    """Installed version of each package in :data:`PACKAGES` (or 'not installed')."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine_markdown() -> str:
    """Date, ``nproc``, ``lscpu | head``, Python and package versions."""
    lscpu = "\n".join(_command("lscpu").splitlines()[:10])
    packages = ", ".join(f"{name} {version}" for name, version in versions().items())
    return "\n".join(
        [
            f"- date: `{_command('date')}`",
            f"- nproc: {_command('nproc')}",
            f"- python: {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.platform()}",
            f"- packages: {packages}",
            "",
            "`lscpu | head`:",
            "",
            "```",
            lscpu,
            "```",
        ]
    )
