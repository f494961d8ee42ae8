"""nbgrader configuration for the course (read by `nbgrader ...` run from this folder and by grader/).

solutions/ is the source of every notebook; `nbgrader generate_assignment` writes the student versions
to notebooks/. Grading settings follow ../shared/notes/nbgrader-facts.md (see README, "For instructors").
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from grader.feedback import ShortenTracebacks

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# Student versions: a stub that fails loudly until the learner writes the code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading: a per-cell time limit that interrupts and goes on with the next cell; a loop that
# swallows the interrupt must not fail the whole submission.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120
c.ExecutePreprocessor.interrupt_on_timeout = True
c.ExecutePreprocessor.raise_on_iopub_timeout = False
# A deleted test cell is put back (and graded) instead of waiting for a manual grade forever.
c.OverwriteCells.add_missing_cells = True

# Feedback never shows hidden tests, and tracebacks of test cells are cut to the error message.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, CSSHTMLHeaderPreprocessor]
