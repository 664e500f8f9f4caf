"""report.html: one self-contained page (inline CSS and JS, figures as data URIs, samples as embedded
JSON) that needs no network; a Content-Security-Policy forbids every fetch."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from importlib import resources

from tracekd_ext.report.browser_data import PAGE_SIZE
from tracekd_ext.report.tables import COLUMN_GUIDE, Section, Table

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _asset(name: str) -> str:
    return resources.files("tracekd_ext.report").joinpath("assets", name).read_text(encoding="utf-8")


def table_html(table: Table) -> str:
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return (f"<div class=\"table-wrap\"><table><caption>{escape(table.title)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def section_html(section: Section, anchor: str) -> str:
    parts = [f"<h2 id=\"{escape(anchor)}\">{escape(section.title)}</h2>"]
    parts += [table_html(t) for t in section.tables]
    if section.readings:
        items = "".join(f"<li>{escape(r)}</li>" for r in section.readings)
        parts.append(f"<p>Tests of independence (step vs answer):</p><ul class=\"readings\">{items}</ul>")
    return "\n".join(parts)


def figure_html(name: str, caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{escape(caption)}\">"
            f"<figcaption>{escape(name)}: {escape(caption)}</figcaption></figure>")


BROWSER = """<h2 id="samples">Sample browser</h2>
<p class="note">Filter by run, task, gold label and 2x2 cell of a step against the answer; each sample shows the
question, the context (gold support and cited units marked), the predicted and gold label and answer, and why each
step was scored as it was. {page_size} samples per page.</p>
<p class="note" id="browser-note"></p>
<div class="controls">
  <label>run <select id="filter-run"></select></label>
  <label>task <select id="filter-task"></select></label>
  <label>gold label <select id="filter-label"></select></label>
  <label>step <select id="filter-step"></select></label>
  <label>2x2 cell <select id="filter-cell"></select></label>
  <label>id or question contains <input id="filter-search" type="search"></label>
</div>
<p class="status" id="sample-count"></p>
<div class="pager"><button id="page-prev" type="button">previous</button><span id="page-info"></span>
<button id="page-next" type="button">next</button></div>
<div id="sample-list"></div>"""


def headline_html(headline: Sequence[str]) -> str:
    """The opening block: one sentence per run (and per intervention result)."""
    if not headline:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in headline)
    return (f"<section class=\"headline\" aria-labelledby=\"headline\"><h2 id=\"headline\">Headline</h2>"
            f"<ul>{items}</ul></section>")


def report_html(*, title: str, subtitle: str, headline: Sequence[str], runs_table: Table,
                sections: Sequence[Section], figures: dict[str, tuple[str, bytes]], payload_json: str,
                extra_sections: Sequence[tuple[str, str, str]] = ()) -> str:
    """The whole page as one string; ``extra_sections`` (anchor, title, body HTML), e.g. the Interventions
    section, follow the task sections."""
    anchors = [f"section-{i}" for i in range(len(sections))]
    nav = " ".join(f"<a href=\"#{a}\">{escape(s.title)}</a>" for a, s in zip(anchors, sections, strict=True))
    nav += "".join(f" <a href=\"#{escape(a)}\">{escape(t)}</a>" for a, t, _ in extra_sections)
    body = [
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p>",
        f"<nav class=\"sections\">{nav} <a href=\"#figures\">Figures</a> <a href=\"#samples\">Samples</a> "
        "<a href=\"#guide\">Columns</a></nav></header>",
        "<main>",
        headline_html(headline),
        "<h2 id=\"runs\">Runs</h2>", table_html(runs_table),
        *(section_html(s, a) for s, a in zip(sections, anchors, strict=True)),
        *(f"<h2 id=\"{escape(a)}\">{escape(t)}</h2>\n{body}" for a, t, body in extra_sections),
        "<h2 id=\"figures\">Figures</h2>",
        "<div class=\"figure-grid\">",
        *(figure_html(name, caption, png) for name, (caption, png) in figures.items()),
        "</div>",
        BROWSER.format(page_size=PAGE_SIZE),
        f"<h2 id=\"guide\">Columns</h2><p>{escape(COLUMN_GUIDE)}</p>",
        "</main>",
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<link rel=\"icon\" href=\"data:,\">",
        f"<title>{escape(title)}</title>",
        f"<style>\n{_asset('report.css')}{_asset('interventions.css')}</style></head><body>",
        *body,
        f"<script type=\"application/json\" id=\"report-data\">{payload_json}</script>",
        f"<script>\n{_asset('report.js')}</script>",
        "</body></html>",
        "",
    ])
