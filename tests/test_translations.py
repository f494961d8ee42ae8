"""The translated editions (translations/<lang>/<assignment>.md): every markdown cell translated, nothing else
changed, and a submission of an edition graded exactly like the English notebook."""

import re

import nbformat
import pytest
from conftest import PERFECT, UNTOUCHED
from nbgrader.utils import compute_checksum

from grader.course import NOTEBOOKS, GraderError, assignments
from grader.ledger import Ledger
from grader.selfcheck import check
from grader.translations import TRANSLATIONS, read_translation, translate

EDITIONS = sorted((p.parent.name, p.stem) for p in TRANSLATIONS.glob("*/*.md"))
HANGUL = re.compile("[가-힣]")


def test_every_notebook_has_a_korean_edition():
    assert [a for lang, a in EDITIONS if lang == "ko"] == assignments()


@pytest.mark.parametrize(("language", "assignment"), EDITIONS)
def test_an_edition_translates_every_markdown_cell_and_nothing_else(language, assignment):
    english = nbformat.read(NOTEBOOKS / assignment / f"{assignment}.ipynb", as_version=4)
    edition = nbformat.read(NOTEBOOKS / language / assignment / f"{assignment}.ipynb", as_version=4)
    assert [(c.id, c.cell_type) for c in edition.cells] == [(c.id, c.cell_type) for c in english.cells]
    for ours, theirs in zip(edition.cells, english.cells, strict=True):
        if theirs.cell_type == "markdown":
            assert ours.source != theirs.source and (language != "ko" or HANGUL.search(ours.source)), ours.id
            if "checksum" in ours.metadata.get("nbgrader", {}):  # a locked cell: what nbgrader's Validate compares
                assert ours.metadata["nbgrader"]["checksum"] == compute_checksum(ours), ours.id
        else:
            assert (ours.source, ours.metadata) == (theirs.source, theirs.metadata), ours.id
    assert edition.metadata["language"] == language


def test_a_missing_or_stray_translation_stops_the_release():
    english = nbformat.read(NOTEBOOKS / "01_rnn" / "01_rnn.ipynb", as_version=4)
    texts = read_translation(TRANSLATIONS / "ko" / "01_rnn.md")
    first = next(c.id for c in english.cells if c.cell_type == "markdown")
    with pytest.raises(GraderError, match=f"no translation for the markdown cells \\['{first}'\\]"):
        translate(english, {k: v for k, v in texts.items() if k != first}, "ko")
    with pytest.raises(GraderError, match="not markdown cells of the notebook: \\['nowhere'\\]"):
        translate(english, {**texts, "nowhere": "텍스트"}, "ko")


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
