"""The metrics log of a training run: CSV and JSONL files, and TensorBoard event files
when tensorboard is installed.

One row per logging interval: ``step``, ``epoch``, ``lr``, ``train_loss`` (mean over the
steps since the previous row), ``val_nll`` (on validation rows, else empty/null),
``val_figure`` (what ``val_nll`` is, by the likelihood class of what scored it: "NLL
(exact)", "-ELBO (an upper bound on the NLL; 1 draw per example, evaluation seed 0)", ...;
on validation rows) and
``seconds`` since the start of the run. Rows are flushed as they are written, so the files
can be plotted while training runs (``flowspec sample --curve``). When a run is resumed at
step ``k``, rows after ``k`` (written after the checkpoint it resumes from) are dropped.
At the end, :func:`write_summary` writes the final figures beside them (``NAME.summary.json``:
the NLLs of the best weights, the baseline, the warnings).

Example::

    step,epoch,lr,train_loss,val_nll,val_figure,seconds
    10,0,0.001,1.8321,,,0.41
    100,1,0.000998,1.1032,1.0914,NLL (exact),3.02
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "TEXT_COLUMNS", "MetricsLog", "read_metrics", "write_summary"]

COLUMNS = ("step", "epoch", "lr", "train_loss", "val_nll", "val_figure", "seconds")
#: The columns that hold text, not numbers.
TEXT_COLUMNS = ("val_figure",)


def read_metrics(path: str | Path) -> list[dict[str, float | str | None]]:
    """The rows of a metrics CSV or JSONL file, numbers as floats (``val_figure`` as text),
    empty cells as None."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = list(csv.DictReader(text.splitlines()))
    return [
        {
            k: None if v in ("", None) else v if k in TEXT_COLUMNS else float(v)
            for k, v in row.items()
        }
        for row in rows
    ]


class MetricsLog:
    """Appends rows to ``<stem>.metrics.csv`` and ``<stem>.metrics.jsonl`` (and TensorBoard
    events under ``<stem>.tensorboard/`` if tensorboard is importable)."""

    def __init__(
        self, csv_path: Path, jsonl_path: Path, tensorboard: Path | None, resume_step: int | None
    ) -> None:
        self.csv_path, self.jsonl_path = csv_path, jsonl_path
        kept = self._kept_rows(resume_step)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._csv = open(csv_path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
        self._jsonl = open(jsonl_path, "w", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.DictWriter(self._csv, fieldnames=COLUMNS)
        self._writer.writeheader()
        for row in kept:
            self._write(row, tensorboard=False)
        self._board = _summary_writer(tensorboard) if tensorboard is not None else None

    def _kept_rows(self, resume_step: int | None) -> list[dict[str, Any]]:
        if resume_step is None or not self.jsonl_path.is_file():
            return []
        rows = read_metrics(self.jsonl_path)
        return [
            row for row in rows if row["step"] is not None and float(row["step"]) <= resume_step
        ]

    def log(self, **row: Any) -> None:
        """Write one row; missing columns are empty."""
        self._write({key: row.get(key) for key in COLUMNS}, tensorboard=True)

    def _write(self, row: dict[str, Any], tensorboard: bool) -> None:
        clean = _finite(row)
        self._writer.writerow({k: ("" if v is None else v) for k, v in clean.items()})
        self._jsonl.write(json.dumps(clean) + "\n")
        self._csv.flush()
        self._jsonl.flush()
        if tensorboard and self._board is not None:
            for key in ("lr", "train_loss", "val_nll"):
                if clean.get(key) is not None:
                    self._board.add_scalar(key, clean[key], int(row["step"]))

    def close(self) -> None:
        self._csv.close()
        self._jsonl.close()
        if self._board is not None:
            self._board.close()


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write a run's final figures as JSON (non-finite numbers as null), replacing the
    file in one step so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(_finite(summary), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _summary_writer(folder: Path) -> Any:
    """A TensorBoard writer, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(folder))
