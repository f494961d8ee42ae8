"""The notebooks in other languages: one file per language and notebook, keyed by cell id.

`translations/<lang>/<assignment>.md` holds, for every markdown cell of the English student notebook, a line
`<!-- cell ID -->` followed by that cell's text in the language; and for a code cell whose words are translated
(the graded functions' docstrings, the plots' titles and labels), a line `<!-- code ID -->` followed by pairs of
`<!-- en -->` English text `<!-- <lang> -->` its translation: each text is a string of the cell (a docstring
as it reads, a label, the inside of an f-string with its {fields}). A translator edits words only: the code, the
tests and the cell ids stay the English source's (generation fails otherwise), so an edition is the same nbgrader
assignment and is graded exactly like the English one. `python -m grader release` writes each edition to
`notebooks/<lang>/<assignment>/`.
"""

import ast
import copy
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum

from grader.course import REPO, GraderError

TRANSLATIONS = REPO / "translations"
_ENTRY = re.compile(r"^<!-- (cell|code) (\S+) -->[ \t]*$", re.M)
_PAIR = re.compile(r"^<!-- ([a-z]{2}) -->[ \t]*$", re.M)


@dataclass
class Translation:
    cells: dict[str, str] = field(default_factory=dict)  # markdown cell id: its text
    strings: dict[str, dict[str, str]] = field(default_factory=dict)  # code cell id: {English string: translation}


def read_translation(path: Path) -> Translation:
    """A notebook's translation file (each text without the blank lines around it)."""
    text = Path(path).read_text(encoding="utf-8")
    parts = _ENTRY.split(text)
    if parts[0].strip():
        raise GraderError(f"{path}: text before the first '<!-- cell ID -->' line")
    found = Translation()
    for kind, cell, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        if cell in found.cells or cell in found.strings:
            raise GraderError(f"{path}: cell {cell} translated twice")
        if kind == "cell":
            found.cells[cell] = body.strip("\n")
            continue
        pieces = _PAIR.split(body)
        languages, texts = pieces[1::2], [t.strip("\n") for t in pieces[2::2]]
        if pieces[0].strip() or languages[::2] != ["en"] * (len(languages) // 2) or len(languages) % 2 \
                or "en" in languages[1::2]:
            raise GraderError(f"{path}: code cell {cell}: expected pairs of '<!-- en -->' text and its translation")
        found.strings[cell] = dict(zip(texts[::2], texts[1::2], strict=True))
    return found


def translate(nb, translation: Translation, language: str, where: str = "") -> nbformat.NotebookNode:
    """A copy of the English notebook `nb` with every markdown cell's text replaced by its translation, the
    translated strings of its code cells replaced, and the language recorded in the notebook's metadata. Every
    markdown cell must have a translation, every translated string must be found, and nothing else may change."""
    where = where or language
    edition = copy.deepcopy(nb)
    cells = {c.id: c for c in edition.cells}
    markdown = [c for c in edition.cells if c.cell_type == "markdown"]
    missing = [c.id for c in markdown if c.id not in translation.cells]
    unknown = sorted(set(translation.cells) - {c.id for c in markdown})
    not_code = sorted(c for c in translation.strings if c not in cells or cells[c].cell_type != "code")
    if missing or unknown or not_code:
        raise GraderError(f"{where}: " + "; ".join(
            ([f"no translation for the markdown cells {missing}"] if missing else [])
            + ([f"translations for cells that are not markdown cells of the notebook: {unknown}"] if unknown else [])
            + ([f"string translations for cells that are not code cells of the notebook: {not_code}"]
               if not_code else [])))
    for cell in markdown:
        cell.source = translation.cells[cell.id]
    for cell_id, strings in translation.strings.items():
        cell = cells[cell_id]
        cell.source = translate_strings(cell.source, strings, f"{where}: code cell {cell_id}")
    for cell in [*markdown, *(cells[c] for c in translation.strings)]:
        grading = cell.metadata.get("nbgrader", {})
        if "checksum" in grading:  # a locked cell: nbgrader's Validate compares this with the cell's text
            grading["checksum"] = compute_checksum(cell)
    edition.metadata["language"] = language
    return edition


def translate_strings(source: str, strings: dict[str, str], where: str) -> str:
    """`source` with each string literal whose text is a key of `strings` replaced by its translation; fails when
    a key is not found or when the result differs from `source` in anything but its strings."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits, used = [], set()
    pieces = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)  # an f-string's own parts
              for inner in ast.walk(node) if inner is not node and isinstance(inner, ast.Constant | ast.JoinedStr)}
    for node in ast.walk(tree):
        literal = None if id(node) in pieces else _literal(source, node)
        if literal is None:
            continue
        text, render = literal
        if text in strings:
            start = starts[node.lineno - 1] + node.col_offset
            end = starts[node.end_lineno - 1] + node.end_col_offset
            edits.append((start, end, render(strings[text])))
            used.add(text)
    unused = [t for t in strings if t not in used]
    if unused:
        raise GraderError(f"{where}: no string {unused[0]!r} in the English code (translations must follow it)")
    for start, end, new in sorted(edits, reverse=True):
        source = source[:start] + new + source[end:]
    try:
        same = _shape(ast.parse(source)) == _shape(tree)
    except SyntaxError as e:
        raise GraderError(f"{where}: the translated code does not parse ({e.msg})") from None
    if not same:
        raise GraderError(f"{where}: a translation changes the code, not only its words (an f-string's {{fields}} "
                          "must stay the same)")
    return source


def _literal(source: str, node) -> tuple | None:
    """For a string literal: its text as a translator sees it, and how to write a translation in its place."""
    if not isinstance(node, ast.Constant | ast.JoinedStr) or isinstance(node, ast.Constant) and \
            not isinstance(node.value, str):
        return None
    segment = ast.get_source_segment(source, node)
    match = re.fullmatch(r"([rRuUfF]{0,2})('''|\"\"\"|'|\")(.*)\2", segment, re.S)
    if match is None:  # adjacent literals, or a part of an f-string
        return None
    prefix, quote, inside = match.groups()
    if isinstance(node, ast.JoinedStr):
        return inside, lambda text: f"{prefix}{quote}{text}{quote}"
    if len(quote) == 3:  # a docstring: compared and written without its indentation
        indent = " " * node.col_offset

        def render(text):
            head, tail = re.match(r"\s*", node.value).group(), re.search(r"\s*$", node.value).group()
            body = "\n".join((indent + line) if line and i else line for i, line in enumerate(text.split("\n")))
            return f"{prefix}{quote}{head}{body}{tail}{quote}"

        return inspect.cleandoc(node.value), render
    if "\\" in inside and "r" not in prefix.lower():
        return None  # escapes: not worth translating
    return node.value, lambda text: f"{prefix}{quote}{text}{quote}"


def _shape(tree) -> str:
    """The code without its words: every string emptied, an f-string reduced to its fields."""
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        elif isinstance(node, ast.JoinedStr):
            node.values = sorted((v for v in node.values if isinstance(v, ast.FormattedValue)), key=ast.dump)
    return ast.dump(tree)


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
