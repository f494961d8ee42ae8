"""The shipped data sets are the ones datasets/README.md records, and the loaders read them as documented."""

import hashlib
import re

import numpy as np
import pytest
import torch
from torch import nn

from rnncourse.data import DATASETS, CharVocab, load_names, load_names_by_sex, split_names, stream_batches
from rnncourse.language import CharModel, evaluate_chars, train_char_model


@pytest.mark.parametrize("name", ["names.txt", "names_by_sex.tsv"])
def test_shipped_files_match_the_sha256_in_the_datasets_readme(name):
    row = next(line for line in (DATASETS / "README.md").read_text().splitlines() if line.startswith(f"| `{name}`"))
    recorded = re.findall(r"`([0-9a-f]{64})`", row)[0]
    assert hashlib.sha256((DATASETS / name).read_bytes()).hexdigest() == recorded


def test_labelled_names_are_the_names_with_two_labels():
    labelled = load_names_by_sex()
    assert [name for name, _ in labelled] == load_names()
    assert {sex for _, sex in labelled} == {"female", "male"}
    assert sum(sex == "female" for _, sex in labelled) == 4017


def test_split_names_holds_out_a_tenth_and_keeps_every_name_once():
    names = load_names()
    text, val_text = split_names(names)
    train, held_out = text.split(), val_text.split()
    assert len(held_out) == len(names) // 10
    assert sorted(train + held_out) == names
    assert val_text.startswith("\n") and text.endswith("\n")


def test_stream_batches_targets_are_the_next_characters():
    ids = np.arange(101)
    for inputs, targets in stream_batches(ids, 4, 5):
        assert (targets == inputs + 1).all()


def test_char_model_learns_a_repeating_text_and_rejects_zero_epochs():
    vocab = CharVocab("abc")
    ids = vocab.encode("abc" * 400)
    torch.manual_seed(0)
    model = CharModel(nn.GRU(3, 8, batch_first=True), 3, 8)
    before, _ = evaluate_chars(model, ids[:60])
    history = train_char_model(model, ids, ids[:60], epochs=3, label="abc", lr=0.03, batch_size=8, seq_len=10)
    assert history.val_accuracy[-1] == 1.0 and history.val_loss[-1] < before / 4
    with pytest.raises(ValueError, match="epochs"):
        train_char_model(model, ids, ids[:60], epochs=0, label="abc")
