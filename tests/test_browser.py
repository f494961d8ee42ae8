"""The course as people meet it: JupyterLab with nbgrader's extensions, driven in a real browser.

Debian's chromium through Playwright (never `playwright install`, which downloads a browser). .ci/run installs
chromium where it can; where it or playwright is missing, the test is skipped and says why. A screenshot of each
step is kept in build/browser/.
"""

import secrets
import shutil
from pathlib import Path

import nbformat
import pytest
from processes import free_port, serving

from grader.classroom import grade_class
from grader.course import REPO, new_workspace
from grader.lab import lab_command
from grader.submissions import SAMPLE_CLASS, build, write_roster
from grader.translations import TRANSLATIONS, read_translation, translate

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "build" / "browser"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed here: apt-get install chromium")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded class of two (01_rnn: the reference answers, and the untouched notebook), a copy of the student
    notebook answered with the reference code, and JupyterLab on that folder; the server is stopped by its pid."""
    root = new_workspace(tmp_path_factory.mktemp("lab") / "course")
    for student, answered in (("kim_minji", True), ("park_seoyeon", False)):
        folder = root / "submitted" / student / "01_rnn"
        folder.mkdir(parents=True)
        nbformat.write(build("01_rnn", answered=answered), folder / "01_rnn.ipynb")
    write_roster(root, ("kim_minji", "park_seoyeon"))
    results = grade_class(root)  # also generates root/notebooks/01_rnn/01_rnn.ipynb and its Korean edition
    nbformat.write(build("01_rnn"), root / "notebooks" / "01_rnn" / "01_rnn_answered.ipynb")
    sigmoid = build("01_rnn", {"rnn_cell_forward": SAMPLE_CLASS["lee_junho"]["01_rnn"]["rnn_cell_forward"]})
    nbformat.write(translate(sigmoid, read_translation(TRANSLATIONS / "ko" / "01_rnn.md"), "ko"),
                   root / "notebooks" / "ko" / "01_rnn" / "01_rnn_sigmoid.ipynb")
    assert (root / "notebooks" / "ko" / "01_rnn" / "01_rnn.ipynb").exists()  # generated beside the English one

    settings = root / "lab-settings" / "@jupyterlab"
    for extension, name, value in (("notebook-extension", "tracker", '{"windowingMode": "none"}'),  # every cell
                                   ("apputils-extension", "notification", '{"fetchNews": "false"}')):  # no pop-up
        (settings / extension).mkdir(parents=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(value)
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command(root, ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                 f"--IdentityProvider.token={token}",
                                 f"--LabApp.user_settings_dir={root / 'lab-settings'}",
                                 # JSON messages: with the binary protocol, a kernel restart sometimes left the
                                 # page and the server disagreeing on the framing (struct.error in the server's log)
                                 "--ZMQChannelsWebsocketConnection.kernel_ws_protocol=",
                                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"])
    url = f"http://127.0.0.1:{port}"
    # the whole group: the server and the kernels it started
    with serving(command, root / "jupyter.log", f"{url}/api/status?token={token}", "JupyterLab", whole_group=True,
                 cwd=root):
        yield root, url, token, sum(r.max_score for r in results if r.student == "kim_minji")


@pytest.fixture(scope="module")
def browser(course):
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh page per step; when the step fails, a screenshot of what the browser showed is kept too."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    yield page
    if request.node.rep_call.failed:
        page.screenshot(path=SHOTS / f"failed_{request.node.name}.png")
    page.close()


def open_notebook(page, course, path: str):
    _, url, token, _ = course
    page.goto(f"{url}/lab/tree/{path}?reset&token={token}")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # started and connected


def validate(page, until: str, shot: str) -> str:
    """Press Validate in the open notebook, wait for `until` in its dialog, keep a screenshot; the dialog's text."""
    page.locator("jp-button.validate-button:visible").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text(until).first.wait_for(timeout=180_000)
    page.screenshot(path=SHOTS / shot)
    text = dialog.inner_text()
    dialog.locator("button").last.click()
    return text


def test_student_notebook_runs_and_stops_at_the_first_graded_cell(course, page):
    open_notebook(page, course, "notebooks/01_rnn/01_rnn.ipynb")
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()
    first_test = page.locator(".jp-CodeCell", has_text="check_softmax(softmax)").first
    first_test.locator(".jp-OutputArea-output", has_text="NotImplementedError").wait_for(timeout=120_000)
    first_test.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "1_student_notebook_not_implemented.png")


def test_validate_names_the_failing_cells_without_the_graders_code(course, page):
    open_notebook(page, course, "notebooks/01_rnn/01_rnn.ipynb")
    text = validate(page, "The following cell failed", "2_validate_untouched.png")
    assert "check_softmax(softmax)" in text and "NotImplementedError" in text
    assert "grader/checks" not in text and "mistakes" not in text  # the learner's frames only


def test_validate_says_success_for_the_reference_answers(course, page):
    open_notebook(page, course, "notebooks/01_rnn/01_rnn_answered.ipynb")
    validate(page, "Success! Your notebook passes all the tests.", "3_validate_success.png")


def test_the_korean_edition_reads_in_korean_and_validates_like_the_english_one(course, page):
    open_notebook(page, course, "notebooks/ko/01_rnn/01_rnn.ipynb")
    page.locator(".jp-RenderedMarkdown h1", has_text="numpy로 만드는 바닐라 RNN").wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "6_korean_edition.png")
    text = validate(page, "The following cell failed", "7_validate_korean_untouched.png")
    assert "check_softmax(softmax)" in text and "NotImplementedError" in text  # the English edition's verdict
    assert "CHANGED" not in text  # the translated locked cells carry their own checksums


def test_validate_explains_a_mistake_in_korean_in_the_korean_edition(course, page):
    """Validate's kernel starts in the Korean edition's folder, so the checks speak Korean (grader.i18n)."""
    open_notebook(page, course, "notebooks/ko/01_rnn/01_rnn_sigmoid.ipynb")
    text = validate(page, "예상 원인", "8_validate_korean_mistake.png")
    assert "check_rnn_cell_forward(rnn_cell_forward)" in text
    assert "h_t이(가) 틀렸습니다" in text and "h_t에는 tanh가 필요한데 sigmoid를 썼습니다" in text


def test_formgrader_shows_the_assignments_and_the_graded_class(course, page):
    _, url, token, course_points = course
    page.goto(f"{url}/formgrader/manage_assignments?token={token}")
    page.get_by_text("01_rnn").first.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "4_formgrader_assignments.png")
    page.goto(f"{url}/formgrader/manage_students?token={token}")
    for student in ("kim_minji", "park_seoyeon"):
        page.get_by_text(student).first.wait_for(timeout=60_000)
    rows = {student: page.locator("tr", has_text=student).first.inner_text()
            for student in ("kim_minji", "park_seoyeon")}
    page.screenshot(path=SHOTS / "5_formgrader_students.png")
    # Formgrader's overall score counts every notebook of the course; this class handed in 01_rnn only
    assert "Kim, Minji" in rows["kim_minji"] and f"13 / {course_points:g}" in rows["kim_minji"], rows
    assert "Park, Seoyeon" in rows["park_seoyeon"] and f"0 / {course_points:g}" in rows["park_seoyeon"], rows
