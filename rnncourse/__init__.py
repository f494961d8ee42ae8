"""Helpers the course notebooks import: data, the adding problem and its training loop, a character model,
gradient checking, plots (with a Korean font), pictures of the cells and the grading-mode switch.

Learners write the recurrent networks themselves; this package only holds the plumbing around them,
so that no notebook copies helper code from another.
"""

from rnncourse.data import CharVocab, load_names, load_names_by_sex, one_hot, split_names, stream_batches
from rnncourse.fonts import use_korean_font
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.language import CharHistory, CharModel, train_char_model
from rnncourse.mode import grading_mode, pick
from rnncourse.tasks import BASELINE_MSE, adding_problem, held_out_set
from rnncourse.train import History, Regressor, plot_histories, rnn_params, train_adding

use_korean_font()  # Korean labels in any plot of a notebook that imports the course's library

__all__ = [
    "BASELINE_MSE",
    "CharHistory",
    "CharModel",
    "CharVocab",
    "History",
    "Regressor",
    "adding_problem",
    "grading_mode",
    "load_names",
    "load_names_by_sex",
    "numerical_gradient",
    "one_hot",
    "pick",
    "plot_histories",
    "rel_error",
    "rnn_params",
    "split_names",
    "stream_batches",
    "held_out_set",
    "train_adding",
    "train_char_model",
]
