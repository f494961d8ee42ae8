"""Full mode for learners, short mode while nbgrader executes a notebook.

nbgrader sets NBGRADER_EXECUTION ("autograde" or "validate") in the kernel it starts, so training
cells can shorten themselves and grading time goes to the tests, not to training.
"""

import os


def grading_mode() -> bool:
    """True while nbgrader (or `python -m grader check`) executes the notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full, grading):
    """`full` when a learner runs the notebook, `grading` while it is being graded."""
    return grading if grading_mode() else full
