"""What machine and software a benchmark ran on, as markdown."""

from __future__ import annotations

import argparse
import platform
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["PACKAGES", "versions", "machine_markdown", "load_average", "quick_run"]

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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def quick_run(doc: str | None) -> bool:
    """A benchmark script's command line (``--quick``, a fast smoke run, with ``doc`` as
    its help); torch is set to one thread, as every comparison runs."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    quick: bool = parser.parse_args().quick
    import torch  # here: run_all, which imports this module, runs without torch

    torch.set_num_threads(1)
    return quick
