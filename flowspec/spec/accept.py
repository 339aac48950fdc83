"""Warnings a spec accepts: ``accept: {W501: "reason"}`` at the top level of a spec.

A warning points at something the author may have chosen on purpose: RealNVP's logit with
alpha maps bounded data onto a bounded interval, which a Gaussian prior then models with
mass to spare (W501, Dinh et al. 2016, arXiv:1605.08803, whose reported figures are such
bounds); a planar flow kept for sampling only has no ``log_prob`` of data (W752). Writing
the code with a reason under ``accept:`` says so: the warning is no longer printed, but
what it implies still holds (a model whose prior gets bounded values stays a lower bound in
every report, marked "accepted") and ``flowspec validate`` lists it with the reason.

Only warnings can be accepted (E114: an error names a spec that does not work), and an
acceptance no warning matches is itself a warning (W115), so none outlives its cause.

Example::

    accept:
      W501: "RealNVP's logit with alpha; the figures are bounds, as in the paper"
"""

from __future__ import annotations

from flowspec.codes import CODES
from flowspec.diagnostics import Diagnostic, Reporter, did_you_mean

__all__ = ["check_acceptances", "split_accepted"]


def check_acceptances(accept: dict[str, str], reporter: Reporter) -> dict[str, str]:
    """The acceptances that name a warning code (E114 for the others)."""
    warnings = [code for code in CODES if code.startswith("W")]
    valid = {}
    for code, reason in accept.items():
        if code in warnings:
            valid[code] = reason
            continue
        what = "an error, which cannot be accepted" if code in CODES else "not a warning code"
        reporter.error(
            "E114",
            f"accept: '{code}' is {what}",
            ("accept", code),
            hint=did_you_mean(code, warnings) or f"warning codes: {', '.join(warnings)}",
        )
    return valid


def split_accepted(
    warnings: list[Diagnostic], accepted: dict[str, str], reporter: Reporter
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The warnings to print and those the spec accepts; an accepted code no warning has is
    reported (W115) among the printed ones."""
    shown = [w for w in warnings if w.code not in accepted]
    taken = [w for w in warnings if w.code in accepted]
    stale = Reporter(reporter.locator)
    for code in accepted:
        if not any(w.code == code for w in taken):
            stale.warning(
                "W115",
                f"accept: no {code} warning is raised by this spec any more",
                ("accept", code),
                hint=f"remove '{code}' from accept",
            )
    return shown + stale.warnings, taken
