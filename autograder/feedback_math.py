"""Maths on feedback pages without a network: the LaTeX of markdown cells turned into MathML
when the page is written (browsers draw MathML themselves; MathJax would come from a CDN).

:class:`MathToMathML` is a preprocessor of nbgrader's feedback (``nbgrader_config.py``). It
converts ``$$...$$`` (display) and ``$...$`` (inline) outside code spans and code blocks with
``latex2mathml``; an expression it cannot convert stays as LaTeX, as before.
"""

import re

from latex2mathml.converter import convert
from nbgrader.preprocessors import NbGraderPreprocessor

#: code blocks and code spans, which hold dollars that are not maths
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
#: inline maths may wrap onto the next line of the markdown, not across a blank line
INLINE = re.compile(r"(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<!\s)\$(?!\$)")


#: a matrix's brackets as latex2mathml writes them (not stretched to the matrix's height)
MATRIX_OPEN = re.compile(r"<mo>(&#x0005B;|&#x00028;|&#x0007C;)</mo><mtable>")
MATRIX_CLOSE = re.compile(r"</mtable><mo>(&#x0005D;|&#x00029;|&#x0007C;)</mo>")


def _mathml(latex: str, display: str) -> str | None:
    try:
        mathml = convert(latex.strip(), display=display)
    except Exception:  # noqa: BLE001 (latex2mathml raises many kinds on what it cannot parse)
        return None
    mathml = MATRIX_OPEN.sub(r'<mo stretchy="true" fence="true" form="prefix">\1</mo><mtable>',
                             mathml)
    return MATRIX_CLOSE.sub(r'</mtable><mo stretchy="true" fence="true" form="postfix">\1</mo>',
                            mathml)


def _replace(pattern: re.Pattern, display: str, text: str) -> str:
    def one(match: re.Match) -> str:
        mathml = _mathml(match.group(1), display)
        return match.group(0) if mathml is None else mathml
    return pattern.sub(one, text)


def markdown_with_mathml(markdown: str) -> str:
    """``markdown`` with its maths as MathML (code left as it is)."""
    parts = CODE.split(markdown)
    for index in range(0, len(parts), 2):  # even parts are outside code
        parts[index] = _replace(INLINE, "inline", _replace(DISPLAY, "block", parts[index]))
    return "".join(parts)


class MathToMathML(NbGraderPreprocessor):
    """Replace the LaTeX of every markdown cell by MathML (see the module)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            cell.source = markdown_with_mathml(cell.source)
        return cell, resources
