"""Build submissions from the released notebook: the reference answer, or the reference with edits.

Used for the bundled sample class and by the tests' catalogue of realistic mistakes, so every wrong
submission is the real student notebook with one small, named change.
"""

import re
from pathlib import Path

import nbformat

from grader.course import NOTEBOOKS, SOLUTIONS, GraderError
from grader.translations import TRANSLATIONS, read_translation, translate

_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_code(source: str) -> str:
    """A solution cell's source with nbgrader's solution markers removed."""
    return _MARKER.sub("", source)


def build(assignment: str, edits: dict[str, list[tuple[str, str]]] | None = None,
          answered: bool = True) -> nbformat.NotebookNode:
    """The released notebook with every solution cell answered by the reference code.

    edits: {grade_id: [(old, new), ...]} text replacements applied to those answers; each `old` must occur.
    answered=False returns the untouched student version.
    """
    name = f"{assignment}.ipynb"
    student = nbformat.read(NOTEBOOKS / assignment / name, as_version=4)
    if not answered:
        return student
    reference = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(SOLUTIONS / assignment / name, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    edits = dict(edits or {})
    for cell in student.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in reference:
            code = solution_code(reference[gid])
            for old, new in edits.pop(gid, []):
                if old not in code:
                    raise GraderError(f"edit for '{gid}': {old!r} does not occur in the reference answer")
                code = code.replace(old, new)
            cell.source = code
    if edits:
        raise GraderError(f"edits for cells that are not solution cells: {sorted(edits)}")
    return student


# The bundled sample class: a perfect student, one with typical mistakes, and one who handed in untouched notebooks.
SAMPLE_CLASS = {
    "kim_minji": {"01_rnn": {}, "02_vanishing_gradients": {}, "03_lstm": {}, "04_gru": {}, "05_bilstm": {},
                  "06_lstm_speed": {}},
    "lee_junho": {
        "01_rnn": {
            "rnn_cell_forward": [("h_t = np.tanh(", "sigmoid = lambda a: 1 / (1 + np.exp(-a))\n    h_t = sigmoid(")],
            "sample": [("ix = int(rng.choice(V, p=p))", "ix = int(p.argmax())")],
        },
        "02_vanishing_gradients": {  # the Jacobian product in the wrong order, clipping that scales gradients up
            "jacobian_product": [("J = step_jacobian(h[:, s], params) @ J", "J = J @ step_jacobian(h[:, s], params)")],
            "clip_grad_norm": [("if total_norm > max_norm:", "if True:")],
        },
        "03_lstm": {  # the forget gate applied to h_{t-1}, the backward without the path through h_t, torch's
            "lstm_cell": [("c_t = f_t * c_prev", "c_t = f_t * h_prev")],  # second bias left in place
            "lstm_cell_backward": [("dc = dc_t + dh_t * o_t * (1 - tanh_c**2)", "dc = dc_t")],
            "gates_to_torch": [("        lstm.bias_hh_l0.zero_()\n", "")],
        },
        "04_gru": {  # z_t and 1 - z_t swapped in Cho's form, only one of torch's two biases read
            "gru_cell_cho": [("h_t = (1 - z_t) * n_t + z_t * h_prev", "h_t = z_t * n_t + (1 - z_t) * h_prev")],
            "gates_from_torch": [("b = gru.bias_ih_l0 + gru.bias_hh_l0", "b = gru.bias_ih_l0")],
        },
        "05_bilstm": {  # the summary reads the backward direction at the last step instead of the first
            "summary": [("outputs[:, 0, H:]", "last[:, H:]")],
        },
        "06_lstm_speed": {  # the input projection left inside the loop: right outputs, twice the products
            "lstm_layer_precomputed": [("    for gx_t in gx.unbind(dim=1):  # not gx[:, t]: see above\n"
                                        "        h_t, c_t = step(gx_t, h_t, c_t, V)",
                                        "    for t in range(T):\n"
                                        "        h_t, c_t = step(x[:, t] @ W.T + b, h_t, c_t, V)")],
        },
    },
    # None: untouched
    "park_seoyeon": {"01_rnn": None, "02_vanishing_gradients": None, "03_lstm": None, "04_gru": None,
                     "05_bilstm": None, "06_lstm_speed": None},
}

EDITIONS = {"lee_junho": "ko"}
"""Students of the sample class who hand in a translated edition (grader.translations): graded as the English."""


def write_roster(root: Path, students) -> None:
    """students.csv for ids written family_given (kim_minji: Minji Kim), in nbgrader's import format."""
    lines = ["id,first_name,last_name,email"]
    for student in students:
        family, _, given = student.partition("_")
        lines.append(f"{student},{given.capitalize()},{family.capitalize()},")
    (Path(root) / "students.csv").write_text("\n".join(lines) + "\n")


def write_sample_class(submitted: Path, copies: int = 1) -> list[str]:
    """Write the sample class in nbgrader's layout submitted/<student>/<assignment>/<assignment>.ipynb, and its
    roster (students.csv, for the names Formgrader shows) beside submitted/. copies > 1 repeats the three
    students (kim_minji_2, ...) to make a class large enough to time grading at scale."""
    students = {}
    for k in range(1, copies + 1):
        students.update({student if k == 1 else f"{student}_{k}": student for student in SAMPLE_CLASS})
    write_roster(Path(submitted).parent, students)
    for student, sample in students.items():
        for assignment, edits in SAMPLE_CLASS[sample].items():
            folder = Path(submitted) / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nb = build(assignment, edits or {}, answered=edits is not None)
            if sample in EDITIONS:
                language = EDITIONS[sample]
                nb = translate(nb, read_translation(TRANSLATIONS / language / f"{assignment}.md"), language)
            nbformat.write(nb, folder / f"{assignment}.ipynb")
    return list(students)
