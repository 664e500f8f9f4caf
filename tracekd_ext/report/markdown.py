"""report.md: the tables and test readings, ready to paste into a paper or a pull request.

Text that comes from the user (the title, run labels in the tables and readings) cannot carry raw HTML, as in
report.html: every ``<`` that would open a tag, comment or declaration (followed by a letter, ``/``, ``!`` or
``?``, CommonMark's rule for raw HTML) is written ``&lt;``, which renderers show as ``<``; the plain-text
readings (``chi-square = 0.4 < 3.841``) stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tracekd_ext.report.headline import HEADLINE_HEADING
from tracekd_ext.report.tables import COLUMN_GUIDE, Section, Table

_TAG_OPENING = re.compile(r"<(?=[A-Za-z/!?])")


def _text(value: str) -> str:
    return _TAG_OPENING.sub("&lt;", value)


def headline_markdown(headline: Sequence[str]) -> str:
    """The headline section as report.md has it."""
    return HEADLINE_HEADING + "\n\n" + "\n".join(f"- {_text(line)}" for line in headline)


def report_markdown(*, title: str, subtitle: str, headline: Sequence[str], runs_table: Table,
                    sections: Sequence[Section], figures: dict[str, str], extra_sections: Sequence[str] = ()) -> str:
    """The whole document; ``figures`` maps PNG file names (next to report.md) to captions;
    ``extra_sections`` (ready Markdown, e.g. the Interventions section) follow the task sections."""
    parts = [f"# {_text(title)}", _text(subtitle)]
    if headline:
        parts.append(headline_markdown(headline))
    parts += ["## Runs", _text(runs_table.markdown())]
    for section in sections:
        parts.append(f"## {_text(section.title)}")
        parts += [_text(table.markdown()) for table in section.tables]
        if section.readings:
            parts.append("Tests of independence (step vs answer):\n\n"
                         + "\n".join(f"- {_text(r)}" for r in section.readings))
    parts += [_text(extra) for extra in extra_sections]
    parts.append("## Figures")
    parts += [f"![{name}]({name})\n\n*{_text(caption)}.*" for name, caption in figures.items()]
    parts += ["## Columns", _text(COLUMN_GUIDE)]
    return "\n\n".join(parts) + "\n"
