"""One document model, rendered as HTML, PDF and Markdown.

Reports, per-version documents and the framework's templates are built as a
`Document` (title, sections of paragraphs, facts, bullet lists and tables) and
rendered from that one object, so the HTML and the PDF of a report cannot say
different things. HTML goes through Jinja2 with autoescaping on: every text,
including what people typed into the records, is escaped. The PDF uses fpdf2 with
DejaVu Sans where the system has it (as the model card does), so any Unicode text
survives; without it, characters outside latin-1 are replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from governance.model_card import pdf_font

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Facts:
    """Labelled values, one per line (``label: value``)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bullets:
    """A bullet list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of text cells; ``empty`` is said when it has no rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "None."


Block = Paragraph | Facts | Bullets | Table


@dataclass(frozen=True)
class Section:
    """A headed part of a document."""

    heading: str
    blocks: tuple[Block, ...] = field(default=())


@dataclass(frozen=True)
class Document:
    """A report, record or template, ready to render."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ doc.title }}</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;
line-height:1.45;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
dt{font-weight:bold;float:left;clear:left;margin-right:.5rem}
dd{margin:0 0 .2rem 0}
</style>
</head>
<body>
<h1>{{ doc.title }}</h1>
<p><em>{{ doc.subtitle }}</em></p>
{% for section in doc.sections %}
<h2>{{ section.heading }}</h2>
{% for block in section.blocks %}
{% if block.kind == "paragraph" %}
<p>{{ block.text }}</p>
{% elif block.kind == "facts" %}
<dl>
{% for label, value in block["items"] %}<dt>{{ label }}:</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
{% elif block.kind == "bullets" %}
<ul>
{% for item in block["items"] %}<li>{{ item }}</li>
{% endfor %}</ul>
{% elif block.rows %}
<table>
<thead><tr>{% for column in block.columns %}<th>{{ column }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in block.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% else %}
<p>{{ block.empty }}</p>
{% endif %}
{% endfor %}
{% endfor %}
</body>
</html>
"""


def _kind(block: Block) -> str:
    return {
        Paragraph: "paragraph",
        Facts: "facts",
        Bullets: "bullets",
        Table: "table",
    }[type(block)]


def render_html(doc: Document) -> str:
    """The document as a standalone HTML page; every text is escaped.

    Parameters
    ----------
    doc
        The document.

    Returns
    -------
    str
        HTML text.
    """
    from jinja2 import Environment

    environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = environment.from_string(_HTML)
    shown = {
        "title": doc.title,
        "subtitle": doc.subtitle,
        "sections": [
            {
                "heading": section.heading,
                "blocks": [
                    {"kind": _kind(block), **block.__dict__} for block in section.blocks
                ],
            }
            for section in doc.sections
        ],
    }
    return template.render(doc=shown)


def render_markdown(doc: Document) -> str:
    """The document as Markdown; ``&``, ``<`` and ``>`` are escaped as entities.

    Parameters
    ----------
    doc
        The document.

    Returns
    -------
    str
        Markdown text.
    """
    import html

    parts = [f"# {doc.title}", f"_{doc.subtitle}_"]
    for section in doc.sections:
        parts.append(f"## {section.heading}")
        parts += [_markdown_block(block) for block in section.blocks]
    # Markdown viewers pass raw HTML through; escaping keeps typed markup inert.
    return html.escape("\n\n".join(parts), quote=False) + "\n"


def _markdown_block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Facts):
        return "\n".join(f"- **{label}:** {value}" for label, value in block.items)
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if not block.rows:
        return block.empty
    lines = [
        "| " + " | ".join(block.columns) + " |",
        "|" + "---|" * len(block.columns),
    ]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
        for row in block.rows
    ]
    return "\n".join(lines)


def render_pdf(doc: Document) -> bytes:
    """The document as a PDF file (A4).

    Parameters
    ----------
    doc
        The document.

    Returns
    -------
    bytes
        The PDF file.
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    family, clean = pdf_font(pdf)

    def write(text: str, size: int, height: float, *, style: str = "") -> None:
        pdf.set_font(family, style=style, size=size)
        pdf.multi_cell(0, height, clean(text), align="L", new_x="LMARGIN", new_y="NEXT")

    write(doc.title, 17, 9, style="B")
    write(doc.subtitle, 9, 5)
    for section in doc.sections:
        pdf.ln(4)
        write(section.heading, 13, 7, style="B")
        for block in section.blocks:
            _pdf_block(pdf, family, clean, write, block)
            pdf.ln(1)
    return bytes(pdf.output())


def _pdf_block(
    pdf: Any,
    family: str,
    clean: Callable[[str], str],
    write: Callable[..., None],
    block: Block,
) -> None:
    if isinstance(block, Paragraph):
        write(block.text, 10, 5)
    elif isinstance(block, Facts):
        for label, value in block.items:
            write(f"{label}: {value}", 10, 5)
    elif isinstance(block, Bullets):
        for item in block.items:
            write(f"- {item}", 10, 5)
    elif not block.rows:
        write(block.empty, 10, 5)
    else:
        pdf.set_font(family, size=8)
        with pdf.table(
            text_align="LEFT", line_height=4.5, first_row_as_headings=True
        ) as table:
            for row in (block.columns, *block.rows):
                cells = table.row()
                for cell in row:
                    cells.cell(clean(cell))


def shown_time(moment: datetime | None) -> str:
    """A time as ``2026-11-30 17:05 UTC`` (empty when there is none)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def shown_hours(hours: float | None) -> str:
    """Hours with one decimal, e.g. ``49.5 h`` (a dash when there are none)."""
    return "-" if hours is None else f"{hours:.1f} h"


def shown_score(value: float | None) -> str:
    """A 0-1 score with two decimals (a dash when there is none)."""
    return "-" if value is None else f"{value:.2f}"
