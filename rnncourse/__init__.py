"""Helpers the course notebooks import: data, gradient checking, plots and the grading-mode switch.

Learners write the recurrent networks themselves; this package only holds the plumbing around them,
so that no notebook copies helper code from another.
"""

from rnncourse.data import CharVocab, load_names, one_hot, stream_batches
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.mode import grading_mode, pick

__all__ = [
    "CharVocab",
    "grading_mode",
    "load_names",
    "numerical_gradient",
    "one_hot",
    "pick",
    "rel_error",
    "stream_batches",
]
