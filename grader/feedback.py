"""Feedback that shows what failed without showing the hidden tests."""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Bool


class ShortenTracebacks(NbGraderPreprocessor):
    """Cut the traceback of each test cell's error to `ErrorName: message`.

    ClearHiddenTests removes the hidden block from the cell's source, but a traceback still prints the
    hidden lines around the failing one; the check's message says everything a learner needs.
    """

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
