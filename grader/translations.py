"""The notebooks' prose in other languages: one file per language and notebook, keyed by cell id.

`translations/<lang>/<assignment>.md` holds, for every markdown cell of the English student notebook, a line
`<!-- cell ID -->` followed by that cell's text in the language. A translator edits prose only: code cells, test
cells and their ids stay the English source's, so an edition is the same nbgrader assignment and is graded
exactly like the English one. `python -m grader release` writes each edition to `notebooks/<lang>/<assignment>/`.
"""

import copy
import re
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum

from grader.course import REPO, GraderError

TRANSLATIONS = REPO / "translations"
_CELL = re.compile(r"^<!-- cell (\S+) -->[ \t]*$", re.M)


def read_translation(path: Path) -> dict[str, str]:
    """{cell id: text} from a translation file (each text without the blank lines around it)."""
    text = Path(path).read_text(encoding="utf-8")
    parts = _CELL.split(text)
    if parts[0].strip():
        raise GraderError(f"{path}: text before the first '<!-- cell ID -->' line")
    ids, texts = parts[1::2], [t.strip("\n") for t in parts[2::2]]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise GraderError(f"{path}: cells translated twice: {repeated}")
    return dict(zip(ids, texts, strict=True))


def translate(nb, texts: dict[str, str], language: str, where: str = "") -> nbformat.NotebookNode:
    """A copy of the English notebook `nb` with every markdown cell's text replaced by its translation and the
    language recorded in the notebook's metadata. Every markdown cell must have one, and nothing else may."""
    edition = copy.deepcopy(nb)
    markdown = [c for c in edition.cells if c.cell_type == "markdown"]
    missing = [c.id for c in markdown if c.id not in texts]
    unknown = sorted(set(texts) - {c.id for c in markdown})
    if missing or unknown:
        raise GraderError(f"{where or language}: " + "; ".join(
            ([f"no translation for the markdown cells {missing}"] if missing else [])
            + ([f"translations for cells that are not markdown cells of the notebook: {unknown}"] if unknown else [])))
    for cell in markdown:
        cell.source = texts[cell.id]
        grading = cell.metadata.get("nbgrader", {})
        if "checksum" in grading:  # a locked cell: nbgrader's Validate compares this with the cell's text
            grading["checksum"] = compute_checksum(cell)
    edition.metadata["language"] = language
    return edition


def write_editions(notebooks: Path) -> None:
    """Write every translated edition of the English student notebooks in `notebooks` beside them, as
    `<lang>/<assignment>/<assignment>.ipynb`."""
    for path in sorted(TRANSLATIONS.glob("*/*.md")):
        language, assignment = path.parent.name, path.stem
        english = Path(notebooks) / assignment / f"{assignment}.ipynb"
        if not english.exists():
            raise GraderError(f"{path}: no notebook {assignment} to translate")
        edition = translate(nbformat.read(english, as_version=4), read_translation(path), language, str(path))
        out = Path(notebooks) / language / assignment / f"{assignment}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(edition, out)
