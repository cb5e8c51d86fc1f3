"""Progress bars that a saved notebook keeps as one finished line.

:func:`progress_bar` takes ``tqdm``'s arguments and gives ``tqdm.auto``'s bar: a widget in a
notebook, text elsewhere. A widget's saved output is the text it had when it was *created* (the
widget's later state is not saved), so every bar of a run would stay in the ``.ipynb``, in an
autograded copy and on a feedback page as a frozen ``0%``. In a notebook the bar is therefore
displayed under a display id, and when it closes its output is replaced by its final line
(``leave=True``, the default) or by an empty text (``leave=False``).
"""

from IPython.display import display
from tqdm.auto import tqdm
from tqdm.notebook import tqdm_notebook


class _FinishingNotebookBar(tqdm_notebook):
    """A notebook bar whose output becomes its final text line when it closes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, display=False, **kwargs)
        self._handle = None if self.disable else display(self.container, display_id=True)

    def close(self):
        super().close()
        if self._handle is not None:
            handle, self._handle = self._handle, None
            final = self.format_meter(**self.format_dict) if self.leave else ""
            handle.update({"text/plain": final}, raw=True)


def progress_bar(iterable=None, **kwargs) -> tqdm:
    """``tqdm.auto.tqdm(iterable, **kwargs)``, leaving one line in a saved notebook (see the
    module). Close a bar you leave early (``break``) with ``.close()``: it then shows where it
    stopped."""
    if issubclass(tqdm, tqdm_notebook):
        return _FinishingNotebookBar(iterable, **kwargs)
    return tqdm(iterable, **kwargs)
