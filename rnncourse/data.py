"""Character data: the names shipped in datasets/, a character vocabulary, one-hot inputs and
the contiguous streams that truncated BPTT walks through chunk by chunk."""

from pathlib import Path

import numpy as np

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def load_names(path: Path | str | None = None) -> list[str]:
    """The 5,163 US Census 1990 first names in datasets/names.txt, lower case a-z."""
    path = Path(path) if path is not None else DATASETS / "names.txt"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the names list ships in the repository's datasets/ folder")
    return [line for line in path.read_text().split("\n") if line]


def load_names_by_sex(path: Path | str | None = None) -> list[tuple[str, str]]:
    """The same names, each labelled "female" or "male": the sex it is more common for in the census lists."""
    path = Path(path) if path is not None else DATASETS / "names_by_sex.tsv"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the labelled names ship in the repository's datasets/ folder")
    rows = [line.split("\t") for line in path.read_text().split("\n")[1:] if line]
    return [(name, sex) for name, sex in rows]


def split_names(names: list[str], seed: int = 0, val_fraction: float = 0.1) -> tuple[str, str]:
    """Shuffle the names (the file is sorted) and hold out a fraction: (training text, held-out text).

    Each name ends with a newline; the held-out text also starts with one, so that its first name is
    predicted from the start-of-name context like every other."""
    names = list(names)
    np.random.default_rng(seed).shuffle(names)
    n_val = int(len(names) * val_fraction)
    return "\n".join(names[n_val:]) + "\n", "\n" + "\n".join(names[:n_val]) + "\n"


class CharVocab:
    """Maps characters to indices and back; index order is the sorted characters."""

    def __init__(self, text: str):
        self.itos = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown}")
        return np.array([self.stoi[ch] for ch in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)


def one_hot(ids, V: int) -> np.ndarray:
    """One-hot float64 vectors: ids of any shape -> shape + (V,)."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"indices must lie in [0, {V}), got {ids.min()}..{ids.max()}")
    return np.eye(V)[ids]


def stream_batches(ids: np.ndarray, batch_size: int, seq_len: int):
    """Yield (inputs, targets), each (batch_size, seq_len), walking `batch_size` parallel streams.

    The text is cut into `batch_size` contiguous streams; chunk k of every stream follows chunk k-1,
    so the hidden state at the end of one chunk is the right start for the next (truncated BPTT).
    Targets are the inputs shifted by one character.
    """
    n = (len(ids) - 1) // batch_size
    if n < seq_len:
        raise ValueError(f"text of {len(ids)} characters is too short for {batch_size} streams of {seq_len}")
    inputs = ids[: n * batch_size].reshape(batch_size, n)
    targets = ids[1 : n * batch_size + 1].reshape(batch_size, n)
    for start in range(0, n - seq_len + 1, seq_len):
        yield inputs[:, start : start + seq_len], targets[:, start : start + seq_len]
