"""The grader's messages in Korean: a complete catalogue, the same fields, and the language picked as documented."""

import ast
import os
import re
import string
import subprocess
import sys

import nbformat
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from grader.course import REPO, SOLUTIONS, assignments
from grader.i18n import LOCALE, catalogue, language, of_notebook, speaking, tr
from grader.verdict import parts_of

HANGUL = re.compile("[\uac00-\ud7a3]")


def messages_in_code() -> set[str]:
    """Every message the grader and the course's library mark with tr(), found as `pybabel extract -k tr` does."""
    return {message for package in ("grader", "rnncourse")
            for _, _, message, _, _ in extract_from_dir(REPO / package, keywords={"tr": None}, comment_tags=())
            if isinstance(message, str)}


def parts_checked() -> set[str]:
    """What each graded part checks (its test's docstring), shown in feedback through tr()."""
    return {p.what for a in assignments() for p in parts_of(nbformat.read(SOLUTIONS / a / f"{a}.ipynb", 4))}


def fields(text: str) -> set:
    return {(name, conversion or "", spec or "") for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None}


def test_every_message_has_korean_text_with_the_same_fields():
    korean = catalogue("ko")
    wanted = messages_in_code() | parts_checked()
    assert len(wanted) > 300
    assert sorted(wanted - set(korean)) == []  # a message without Korean text
    assert sorted(set(korean) - wanted) == []  # a translation nothing uses any more
    for english, text in korean.items():
        templated = "{" in english and re.search(r"\{[a-z_0-9]*[!:}]", english)
        if templated:
            assert fields(text) == fields(english), english
        else:  # shown as written: the braces of h_{t-1} are not fields
            assert re.findall(r"[{}]", text) == re.findall(r"[{}]", english), english
        assert HANGUL.search(text) or not re.search(r"[a-z]{3,} [a-z]{3,}", english), english


def test_the_catalogue_is_a_valid_po_file_with_nothing_fuzzy():
    with open(LOCALE / "ko.po", "rb") as f:
        po = read_po(f)
    assert po.locale.language == "ko"
    assert not [m.id for m in po if m.id and (m.fuzzy or not m.string)]


def test_messages_are_looked_up_only_by_their_literal_english_text():
    """tr() with a computed message would escape the test above; only the ones listed here may, and each is
    covered: a part's docstring (parts_checked) and the tripwire's messages (marked with its own tr())."""
    computed = []
    for path in sorted([*(REPO / "grader").rglob("*.py"), *(REPO / "rnncourse").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args and \
                    not isinstance(node.args[0], ast.Constant):
                computed.append(f"{path.relative_to(REPO)}: {ast.unparse(node.args[0])}")
    assert sorted(computed) == ["grader/isolation/tripwire.py: self.template", "grader/verdict.py: p.what"]


def test_tr_formats_in_the_language_spoken():
    english = "the bias b_{gate} is missing from {label}"
    assert tr(english, gate="f", label="f_t") == "the bias b_f is missing from f_t"
    with speaking("ko"):
        assert language() == "ko"
        assert tr(english, gate="f", label="f_t") == "f_t에 편향 b_f가 빠졌습니다"
        assert tr("the bias b_h is missing") == "편향 b_h가 빠졌습니다"
        assert tr("a message the catalogue does not know") == "a message the catalogue does not know"
        with speaking(None):
            assert language() == "ko"
    with pytest.raises(ValueError, match="unknown language"):
        with speaking("fr"):
            pass


def test_a_notebooks_language_comes_from_its_metadata():
    nb = nbformat.v4.new_notebook()
    assert of_notebook(nb) == "en"
    nb.metadata["language"] = "ko"
    assert of_notebook(nb) == "ko"
    nb.metadata["language"] = "tlh"
    assert of_notebook(nb) == "en"
    for a in assignments():
        assert of_notebook(nbformat.read(REPO / "notebooks" / "ko" / a / f"{a}.ipynb", 4)) == "ko"
        assert of_notebook(nbformat.read(REPO / "notebooks" / a / f"{a}.ipynb", 4)) == "en"


KERNEL = """
from grader.i18n import language
from grader.tolerance import assert_close
try:
    assert_close("h_t", [1.0], [2.0], mistakes={"x": [3.0]})
except AssertionError as e:
    print(language(), str(e).splitlines()[0])
"""


@pytest.mark.parametrize(("where", "env", "want"), [
    ("ko", {}, "ko"),  # Validate: the kernel starts in the folder of a Korean edition
    ("en", {}, "en"),
    ("mixed", {}, "en"),  # both editions in one folder, nothing else to go by
    ("mixed", {"JPY_SESSION_NAME": "ko.ipynb"}, "ko"),  # JupyterLab names the notebook the kernel runs
    ("mixed", {"JPY_SESSION_NAME": "en.ipynb"}, "en"),
    ("en", {"RNN_COURSE_LANG": "ko"}, "ko"),
    ("mixed", {"LANG": "ko_KR.UTF-8"}, "ko"),  # the system's locale, when the notebooks do not say
])
def test_a_kernel_speaks_the_language_of_its_notebook(tmp_path, where, env, want):
    for lang in {"ko": ["ko"], "en": ["en"], "mixed": ["ko", "en"]}[where]:
        nb = nbformat.v4.new_notebook()
        nb.metadata["language"] = lang
        nbformat.write(nb, tmp_path / f"{lang}.ipynb")
    clean = {k: v for k, v in os.environ.items() if k not in ("RNN_COURSE_LANG", "JPY_SESSION_NAME", "LANG",
                                                               "LC_ALL", "LC_MESSAGES")}
    out = subprocess.run([sys.executable, "-c", KERNEL], cwd=tmp_path, env={**clean, **env, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == want
    assert ("틀렸습니다" in " ".join(out)) == (want == "ko")

