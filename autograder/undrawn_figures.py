"""Imported by a graded kernel at its start (:data:`autograder.graded_notebook.KERNEL_ARGS`):
the figures a cell makes are not drawn after it.

pyplot, imported under IPython, draws every changed figure after each cell (a post-execute
callback; a full Agg render, 0.1 s for a two-panel plot), and the inline backend then shows it.
A graded kernel shows figures as text only (``--InlineBackend.figure_formats=set()``), so that
render is wasted. The callback here is registered before pyplot's, so it runs first: it marks
every open figure as drawn, and pyplot's finds nothing to draw. ``savefig`` and
``canvas.draw`` draw as always. Imported outside IPython, it does nothing.
"""

import sys

from IPython import get_ipython


def _mark_figures_drawn() -> None:
    helpers = sys.modules.get("matplotlib._pylab_helpers")  # None until pyplot is imported
    if helpers is not None:
        for manager in helpers.Gcf.get_all_fig_managers():
            manager.canvas.figure.stale = False


if (shell := get_ipython()) is not None:
    shell.events.register("post_execute", _mark_figures_drawn)
