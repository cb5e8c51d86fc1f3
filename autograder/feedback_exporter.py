"""The feedback page's exporter: nbconvert's ``HTMLExporter`` without its last pass.

``HTMLExporter.from_notebook_node`` renders its template, then parses the whole page with
BeautifulSoup and writes it out again, for two things: a placeholder alt text on every ``<img>``
without one, and ``tabindex`` on the cells of the JupyterLab template. On an a3 feedback page
that pass takes 0.14 s of 0.3 s, in the grading process, for every student. Here:

- the feedback template is nbgrader's, built on the classic template, which has no JupyterLab
  cells, so there is nothing to make focusable;
- every PNG and JPEG output gets its alt text before the template runs (:class:`ImageAltText`):
  the output's own text (a figure's ``<Figure size 640x480 with 1 Axes>``), else nbconvert's
  placeholder. An SVG output, or an image inside an HTML output, keeps none.

The page is the template's output as rendered (``tests/test_feedback.py`` checks that
BeautifulSoup's pass would change nothing else). It relies on nbconvert's ``_init_resources``
and ``_nb_metadata``, as ``HTMLExporter`` does; ``requirements.txt`` pins nbconvert.
"""

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.exporters.html import WidgetsDataTypeFilter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.preprocessors import Preprocessor

#: nbconvert's alt text for an image that has none
NO_DESCRIPTION = "No description has been provided for this image"
IMAGE_TYPES = ("image/png", "image/jpeg")


class ImageAltText(Preprocessor):
    """Give every PNG and JPEG output without alt text one: its own ``text/plain``, else
    :data:`NO_DESCRIPTION`."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for image_type in (kind for kind in IMAGE_TYPES if kind in data):
                metadata = output.setdefault("metadata", {})
                if metadata.get("alt") or cell.metadata.get("alt"):
                    continue
                described = metadata.setdefault(image_type, {})
                if isinstance(described, dict) and not described.get("alt"):
                    described["alt"] = data.get("text/plain") or NO_DESCRIPTION
        return cell, resources


class FeedbackHTMLExporter(HTMLExporter):
    """``HTMLExporter`` that returns its template's page as rendered (see the module)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_preprocessor(ImageAltText(parent=self), enabled=True)

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)
