"""The translated editions (translations/<lang>/<assignment>.md): every markdown cell translated, nothing else
changed, and a submission of an edition graded exactly like the English notebook."""

import ast
import re

import nbformat
import pytest
from conftest import PERFECT, UNTOUCHED
from nbgrader.utils import compute_checksum

from grader.course import NOTEBOOKS, GraderError, assignments
from grader.ledger import Ledger
from grader.selfcheck import check
from grader.translations import TRANSLATIONS, Translation, _shape, read_translation, translate, translate_strings
from grader.verdict import is_test

EDITIONS = sorted((p.parent.name, p.stem) for p in TRANSLATIONS.glob("*/*.md"))
HANGUL = re.compile("[가-힣]")


def test_every_notebook_has_a_korean_edition():
    assert [a for lang, a in EDITIONS if lang == "ko"] == assignments()


@pytest.mark.parametrize(("language", "assignment"), EDITIONS)
def test_an_edition_translates_every_markdown_cell_and_only_the_words_of_code(language, assignment):
    english = nbformat.read(NOTEBOOKS / assignment / f"{assignment}.ipynb", as_version=4)
    edition = nbformat.read(NOTEBOOKS / language / assignment / f"{assignment}.ipynb", as_version=4)
    assert [(c.id, c.cell_type) for c in edition.cells] == [(c.id, c.cell_type) for c in english.cells]
    for ours, theirs in zip(edition.cells, english.cells, strict=True):
        if "checksum" in ours.metadata.get("nbgrader", {}):  # what nbgrader's Validate compares a locked cell with
            assert ours.metadata["nbgrader"]["checksum"] == compute_checksum(ours), ours.id
        if theirs.cell_type == "markdown":
            assert ours.source != theirs.source and (language != "ko" or HANGUL.search(ours.source)), ours.id
        elif is_test(theirs):
            assert (ours.source, ours.metadata) == (theirs.source, theirs.metadata), ours.id
        else:
            assert without_words(ours.source) == without_words(theirs.source), ours.id
            assert without_checksum(ours.metadata) == without_checksum(theirs.metadata), ours.id
    assert edition.metadata["language"] == language


PLOTS = {"set_title", "title", "xlabel", "ylabel", "set_xlabel", "set_ylabel", "suptitle", "plot", "semilogy", "hist",
         "bar", "scatter", "axhline", "axvline", "set", "plot_histories", "plot_speed"}
"""Calls whose string arguments a reader sees in a figure."""


def words_a_reader_sees(source: str, graded: bool) -> list[str]:
    """The graded functions' docstrings and the figures' titles, labels and legends in a code cell."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if graded and isinstance(node, ast.FunctionDef | ast.ClassDef) and ast.get_docstring(node):
            found.append(ast.get_docstring(node))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in PLOTS:
            shown = ("label", "title", "xlabel", "ylabel")
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg in shown)]:
                if isinstance(arg, ast.Constant | ast.JoinedStr):
                    text = ast.get_source_segment(source, arg)
                    if re.search("[A-Za-z]{3,}", re.sub(r"{[^}]*}|\b(rho|tanh|sigma)\b", "", text)):
                        found.append(text)
    return found


@pytest.mark.parametrize("assignment", assignments())
def test_the_korean_edition_translates_docstrings_and_figures(assignment):
    english = nbformat.read(NOTEBOOKS / assignment / f"{assignment}.ipynb", as_version=4)
    korean = nbformat.read(NOTEBOOKS / "ko" / assignment / f"{assignment}.ipynb", as_version=4)
    for ours, theirs in zip(korean.cells, english.cells, strict=True):
        if theirs.cell_type == "code" and not is_test(theirs):
            graded = theirs.metadata.get("nbgrader", {}).get("solution", False)
            left = set(words_a_reader_sees(theirs.source, graded)) & set(words_a_reader_sees(ours.source, graded))
            assert not left, (ours.id, left)


def without_words(source: str) -> str:
    return _shape(ast.parse(source))


def without_checksum(metadata: dict) -> dict:
    grading = {k: v for k, v in metadata.get("nbgrader", {}).items() if k != "checksum"}
    return {**metadata, "nbgrader": grading} if grading else dict(metadata)


def test_a_translation_that_changes_code_or_misses_its_string_stops_the_release():
    source = 'plt.title(f"loss at step {t}")\nx = 1\n'
    assert translate_strings(source, {"loss at step {t}": "스텝 {t}의 손실"}, "here") == \
        'plt.title(f"스텝 {t}의 손실")\nx = 1\n'
    with pytest.raises(GraderError, match="changes the code"):
        translate_strings(source, {"loss at step {t}": "스텝 {t + 1}의 손실"}, "here")
    with pytest.raises(GraderError, match="does not parse"):
        translate_strings(source, {"loss at step {t}": '스텝 {t}의" 손실'}, "here")
    with pytest.raises(GraderError, match="no string 'accuracy'"):
        translate_strings(source, {"accuracy": "정확도"}, "here")


def test_a_missing_or_stray_translation_stops_the_release():
    english = nbformat.read(NOTEBOOKS / "01_rnn" / "01_rnn.ipynb", as_version=4)
    texts = read_translation(TRANSLATIONS / "ko" / "01_rnn.md")
    first = next(c.id for c in english.cells if c.cell_type == "markdown")
    with pytest.raises(GraderError, match=f"no translation for the markdown cells \\['{first}'\\]"):
        translate(english, Translation({k: v for k, v in texts.cells.items() if k != first}, texts.strings), "ko")
    with pytest.raises(GraderError, match="not markdown cells of the notebook: \\['nowhere'\\]"):
        translate(english, Translation({**texts.cells, "nowhere": "텍스트"}, texts.strings), "ko")
    with pytest.raises(GraderError, match="not code cells of the notebook: \\['intro'\\]"):
        translate(english, Translation(texts.cells, {**texts.strings, "intro": {"a": "b"}}), "ko")


def test_a_korean_submission_gets_the_english_class_grade_part_by_part(graded, tmp_path):
    """The reference, the untouched notebook, a catalogued mistake and a ready-made LSTM, each handed in as the
    Korean edition and self-checked, against the class grade of the same code in English: the same points, and
    the same messages when asked for in English (--lang en); in Korean by default."""
    root, _ = graded
    ledger = Ledger(root)
    for assignment, student in (("01_rnn", PERFECT), ("01_rnn", UNTOUCHED), ("01_rnn", "missing_tanh_derivative"),
                                ("03_lstm", "layer_calls_nn_LSTM")):
        english = nbformat.read(root / "submitted" / student / assignment / f"{assignment}.ipynb", as_version=4)
        path = tmp_path / student / f"{assignment}.ipynb"
        path.parent.mkdir()
        nbformat.write(translate(english, read_translation(TRANSLATIONS / "ko" / f"{assignment}.md"), "ko"), path)
        _, english_grade = ledger.get(student, assignment)
        korean, in_english = check(path), check(path, lang="en")
        assert [(p.grade_id, p.score, p.message) for p in in_english.parts] == \
            [(p.grade_id, p.score, p.message) for p in english_grade.parts], student
        assert in_english.problems == english_grade.problems
        assert [(p.grade_id, p.score) for p in korean.parts] == [(p.grade_id, p.score) for p in english_grade.parts]
        failed = [p.message for p in korean.parts if p.score < p.max_score]
        assert all(HANGUL.search(m) for m in failed), failed
        assert (korean.language, in_english.language) == ("ko", "en")
        assert english_grade.score < english_grade.max_score or student == PERFECT  # the mistakes lost points
