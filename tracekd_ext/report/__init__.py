"""Reports that compare runs side by side: tables (report.md), figures (PNG) and an HTML sample browser.

``sources`` resolves the RUN arguments, ``runs`` re-scores them, ``tables`` formats the numbers, ``plots`` draws
the figures, ``browser_data`` packs the samples, ``markdown`` and ``html_page`` render the documents and
``build`` writes them all. Intervention samples: ``interventions.browser_rows`` judges them per run and
``interventions.report_section`` adds their paired analysis, chart and readings.

As a function (the same as ``tracekd report``): ``build_report(["runs/a", "runs/b"], "report")`` returns the
written files (:class:`~tracekd_ext.report.build.ReportFiles`); imported lazily, so that the package itself
does not need matplotlib.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReportFiles", "build_report", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tracekd_ext.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
