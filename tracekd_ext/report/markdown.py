"""report.md: the tables and test readings, ready to paste into a paper or a pull request."""

from __future__ import annotations

from collections.abc import Sequence

from tracekd_ext.report.headline import HEADLINE_HEADING
from tracekd_ext.report.tables import COLUMN_GUIDE, Section, Table


def report_markdown(*, title: str, subtitle: str, headline: Sequence[str], runs_table: Table,
                    sections: Sequence[Section], figures: dict[str, str]) -> str:
    """The whole document; ``figures`` maps PNG file names (next to report.md) to captions."""
    parts = [f"# {title}", subtitle]
    if headline:
        parts += [HEADLINE_HEADING, "\n".join(f"- {line}" for line in headline)]
    parts += ["## Runs", runs_table.markdown()]
    for section in sections:
        parts.append(f"## {section.title}")
        parts += [table.markdown() for table in section.tables]
        if section.readings:
            parts.append("Tests of independence (step vs answer):\n\n" + "\n".join(f"- {r}" for r in section.readings))
    parts.append("## Figures")
    parts += [f"![{name}]({name})\n\n*{caption}.*" for name, caption in figures.items()]
    parts += ["## Columns", COLUMN_GUIDE]
    return "\n\n".join(parts) + "\n"
