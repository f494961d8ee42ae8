"""Every message a learner reads, in the language of the notebook they work in (English or Korean).

Messages are written in English in the code, each wrapped in `tr()`: the English text is the message's id, as in
GNU gettext. `grader/locale/ko.po` is the Korean catalogue, read with Babel (the library Jupyter's own
translations use) and edited with any .po editor; `pybabel extract -k tr` lists the messages (README). A test
fails when a message has no Korean text or its {fields} differ.

The language, first match wins:
1. `speaking(lang)` around a piece of work: grading sets the submitted notebook's language (its metadata field
   "language", written by grader.translations) or the command's `--lang`;
2. the environment variable RNN_COURSE_LANG;
3. in a notebook's kernel, the language of the notebook it runs: JupyterLab tells the kernel the notebook's path
   (JPY_SESSION_NAME), and nbgrader's Validate starts the kernel in the notebook's folder, where the course's
   notebooks of one edition lie;
4. Korean when the system's locale is (LC_ALL, LC_MESSAGES or LANG ko_*), for the commands' own errors;
5. English.
"""

import contextlib
import contextvars
import functools
import json
import os
from pathlib import Path

LANGUAGES = ("en", "ko")
LOCALE = Path(__file__).resolve().parent / "locale"
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)


def tr(message: str, /, **fields) -> str:
    """`message` in the current language, with its {fields} filled in (a message without fields is not
    formatted, so its braces, as in h_{t-1}, stay as written)."""
    text = catalogue(language()).get(message) or message
    return text.format(**fields) if fields else text


def language() -> str:
    return _chosen.get() or _from_environment() or "en"


@contextlib.contextmanager
def speaking(lang: str | None):
    """Messages made inside are in `lang` (None: as outside)."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    token = _chosen.set(lang or _chosen.get())
    try:
        yield
    finally:
        _chosen.reset(token)


def of_notebook(nb) -> str:
    """A notebook's language: its metadata field "language" when it is one of the course's, else English."""
    lang = (nb.get("metadata") or {}).get("language")
    return lang if lang in LANGUAGES else "en"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """{English message: its text in `lang`}; empty for English."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with open(LOCALE / f"{lang}.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}


@functools.cache
def _from_environment() -> str | None:
    lang = os.environ.get("RNN_COURSE_LANG")
    if lang in LANGUAGES:
        return lang
    session = os.environ.get("JPY_SESSION_NAME")
    notebooks = [Path(session)] if session else sorted(Path.cwd().glob("*.ipynb"))
    if session and not notebooks[0].is_absolute():
        notebooks = [Path.cwd() / notebooks[0].name]  # the kernel starts in the notebook's folder
    found = {_language_of_file(p) for p in notebooks}
    if len(found) == 1:
        return found.pop()
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "ko" if locale.startswith("ko") else None


def _language_of_file(path: Path) -> str:
    try:
        return of_notebook(json.loads(path.read_bytes()))
    except (OSError, ValueError, AttributeError):
        return "en"
