"""Plain-text tables for the terminal."""

from __future__ import annotations

import math
from typing import Any

from tracekd_ext.stats import CI_LABEL


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_tables(summary: dict[str, Any], title: str = "") -> str:
    """Metric means with 95% CIs, then the step-vs-answer 2x2 statistics."""
    out = []
    if title:
        out.append(title)
    out.append(f"n = {summary['n']}, trace evaluated = {summary['evaluated']}")
    out.append(table(["metric", "mean", f"{CI_LABEL} CI", "n"],
                     [[name, m["mean"], f"[{fmt(m['ci'][0])}, {fmt(m['ci'][1])}]", m["n"]]
                      for name, m in summary["metrics"].items()]))
    if "pairs" in summary:
        rows = []
        for pair, s in summary["pairs"].items():
            rows.append([f"{pair} vs answer", s["tt"], s["tf"], s["ft"], s["ff"], s["tt_share"],
                         s["p_answer_given_step"], s["p_answer_given_not_step"], s["phi"],
                         f"[{fmt(s['phi_ci'][0])}, {fmt(s['phi_ci'][1])}]" + ("" if s["phi_ci_reliable"] else "*"),
                         s["chi2"], s["chi2_p"], s["fisher_p"]])
        out.append(table(["pair", "TT", "TF", "FT", "FF", "TT/N", "P(a|s)", "P(a|~s)", "phi", f"phi {CI_LABEL} CI",
                          "chi2", "p", "Fisher p"], rows))
        if not all(s["phi_ci_reliable"] for s in summary["pairs"].values()):
            out.append("* an expected cell count is below 5: a small table; the exact interval and Fisher's p "
                       "hold, chi-square does not")
    return "\n\n".join(out)
