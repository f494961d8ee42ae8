"""Student versions: notebooks/ is generated from solutions/ by nbgrader (and its translated editions from
translations/), never edited by hand."""

import filecmp
import shutil
import tempfile
from pathlib import Path

from grader.course import NOTEBOOKS, api, assignments, new_workspace, run
from grader.translations import write_editions


def generate(root: Path) -> Path:
    """Run nbgrader generate_assignment for every assignment in the workspace `root`, then write the translated
    editions beside the English notebooks (grader.translations); return its notebooks/."""
    nbgrader = api(root)
    for name in assignments():
        run(nbgrader.generate_assignment(name, force=True, create=True), f"generate_assignment {name}")
    write_editions(Path(root) / "notebooks")
    return Path(root) / "notebooks"


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def differences(generated: Path, committed: Path = NOTEBOOKS) -> list[str]:
    """Files that differ between a fresh generation and the committed notebooks/."""
    gen, com = _files(generated), _files(committed)
    out = [f"missing from notebooks/: {f}" for f in sorted(gen - com)]
    out += [f"not generated from solutions/: {f}" for f in sorted(com - gen)]
    out += [f"out of date: {f}" for f in sorted(gen & com) if not filecmp.cmp(generated / f, committed / f, False)]
    return out


def release(check_only: bool = False) -> list[str]:
    """Regenerate notebooks/ from solutions/ (or, with check_only, list what is out of date)."""
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(new_workspace(Path(tmp) / "course"))
        diff = differences(generated)
        if not check_only and diff:
            if NOTEBOOKS.exists():
                shutil.rmtree(NOTEBOOKS)
            shutil.copytree(generated, NOTEBOOKS)
    return diff
