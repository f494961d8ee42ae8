"""The classroom loop on nbgrader's real exchange, with real users of this machine: the instructor releases,
two students fetch and submit, the instructor collects, grades with this course's grader and releases feedback,
and each student fetches their own feedback and cannot read the other's. Then the same loop in a real browser on
JupyterHub (classroom/jupyterhub_config.py, PAM logins), with a screenshot of each step in build/hub/."""

import csv
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc
from processes import free_port, serving
from users import Machine, why_not

from grader.course import REPO
from grader.hub import closed_to_users, environment, hub_command, prepare
from grader.submissions import SAMPLE_CLASS, build

try:
    from playwright import sync_api
except ImportError:  # the exchange test runs without it
    sync_api = None

pytestmark = pytest.mark.skipif(why_not() is not None, reason=str(why_not()))
A = "01_rnn"
CHROMIUM = Path("/usr/bin/chromium")
STUDENT_CONFIG = {"JUPYTER_CONFIG_PATH": str(REPO / "classroom" / "student")}


@pytest.fixture
def machine():
    """An instructor and two students, each a user of this machine with a home folder, and a shared exchange;
    the users and their files are removed at the end."""
    suffix = secrets.token_hex(3)
    m = Machine(Path(f"/tmp/rnn-class-{suffix}"))  # outside pytest's folders, which only root may enter
    try:
        names = {role: f"rnn{role}{suffix}" for role in ("teach", "alice", "bob")}
        for name in names.values():
            m.add(name)
        yield m, names
    finally:
        m.close()


def write_as(m: Machine, user: str, path: Path, nb) -> None:
    """The student's own work: `nb` written to `path` by the student's process, as their editor would."""
    m.run(user, "python", "-c", f"import sys; open({str(path)!r}, 'w').write(sys.stdin.read())",
          input=nbformat.writes(nb))


def test_release_fetch_submit_collect_grade_and_feedback(machine):
    m, names = machine
    teacher, alice, bob = names["teach"], names["alice"], names["bob"]
    exchange = m.base / "exchange"
    course = prepare(m.base / "home" / teacher / "rnn-course", exchange, teacher)
    students = {**STUDENT_CONFIG, "RNN_HUB_EXCHANGE": str(exchange)}

    m.run(teacher, "nbgrader", "release_assignment", A, cwd=course)
    answers = {alice: build(A),  # the reference answers, and a catalogued mistake: sigmoid where tanh belongs
               bob: build(A, {"rnn_cell_forward": SAMPLE_CLASS["lee_junho"][A]["rnn_cell_forward"]})}
    for student, answer in answers.items():
        m.run(student, "nbgrader", "fetch_assignment", A, env=students)
        fetched = m.base / "home" / student / A / f"{A}.ipynb"
        assert nbformat.read(fetched, as_version=4).metadata.get("language", "en") == "en"
        write_as(m, student, fetched, answer)
        m.run(student, "nbgrader", "submit", A, env=students)

    m.run(teacher, "nbgrader", "collect", A, cwd=course)
    graded = m.run(teacher, "python", "-m", "grader", "grade", str(course), cwd=course)
    with open(course / "scores.csv") as f:
        scores = {r["student"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == A}
    assert scores == {alice: 13.0, bob: 7.0}, graded.stdout
    m.run(teacher, "nbgrader", "release_feedback", A, cwd=course)

    for student in (alice, bob):
        m.run(student, "nbgrader", "fetch_feedback", A, env=students)
    feedback = {s: list((m.base / "home" / s / A / "feedback").glob(f"*/{A}.html")) for s in (alice, bob)}
    assert all(len(found) == 1 for found in feedback.values()), feedback
    html = {s: found[0].read_text() for s, found in feedback.items()}
    assert "Score: 13.0 / 13.0" in html[alice] or "13.0 / 13.0" in html[alice], html[alice][:2000]
    assert "tanh" in html[bob] and "7.0 / 13.0" in html[bob]

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "rnn-course") as gb:  # collect's time, for lateness
        submitted = gb.find_submission(A, alice).timestamp
    assert submitted == parse_utc((course / "submitted" / alice / A / "timestamp.txt").read_text().strip())

    # bob corrects his notebook and submits again: graded again (alone), and his new feedback reaches him
    write_as(m, bob, m.base / "home" / bob / A / f"{A}.ipynb", answers[alice])
    m.run(bob, "nbgrader", "submit", A, env=students)
    m.run(teacher, "nbgrader", "collect", "--update", A, cwd=course)
    again = m.run(teacher, "python", "-m", "grader", "grade", str(course), cwd=course)
    assert ": 1 graded now," in again.stdout, again.stdout
    m.run(teacher, "nbgrader", "release_feedback", A, cwd=course)
    m.run(bob, "nbgrader", "fetch_feedback", A, env=students)
    newest = max((m.base / "home" / bob / A / "feedback").glob(f"*/{A}.html"), key=lambda p: p.parent.name)
    assert "13.0 / 13.0" in newest.read_text()

    stolen = m.run(bob, "cat", str(feedback[alice][0]), check=False)
    assert stolen.returncode != 0 and "Permission denied" in stolen.stderr
    for folder in ("feedback", "inbound"):
        listed = m.run(bob, "ls", str(exchange / "rnn-course" / folder), check=False)
        assert listed.returncode != 0 and "Permission denied" in listed.stderr, listed.stdout


SHOTS = REPO / "build" / "hub"


@pytest.fixture
def hub(machine, request):
    """JupyterHub as `hub` starts it, on free ports, for an instructor and one student who log in with
    passwords (PAM); the instructor has released 01_rnn. Stopped at the end by its process id (it stops the
    users' servers and its proxy), then whatever the users still run."""
    if not CHROMIUM.exists() or shutil.which("configurable-http-proxy") is None:
        pytest.skip("needs Debian's chromium and configurable-http-proxy (npm install -g configurable-http-proxy)")
    if sync_api is None:
        pytest.skip("playwright is not installed: pip install playwright")
    m, names = machine
    teacher, student = names["teach"], names["alice"]
    password = secrets.token_hex(8)
    subprocess.run(["chpasswd"], input=f"{teacher}:{password}\n{student}:{password}\n", text=True, check=True)
    exchange, state = m.base / "exchange", m.base / "hub"
    state.mkdir(mode=0o700)
    course = prepare(m.base / "home" / teacher / "rnn-course", exchange, teacher)
    m.run(teacher, "nbgrader", "release_assignment", A, cwd=course)
    port = free_port()
    extra = [f"--JupyterHub.hub_port={free_port()}",
             f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"]
    url = f"http://127.0.0.1:{port}"
    try:  # the hub alone: it stops the users' servers and its proxy
        with serving(m.command(hub_command(extra)), state / "jupyterhub.log", f"{url}/hub/api", "JupyterHub",
                     cwd=state, env=environment(teacher, [student], course, exchange, state, port)):
            shutil.rmtree(SHOTS, ignore_errors=True)
            SHOTS.mkdir(parents=True)
            with sync_api.sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
                    "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"])
                yield m, url, teacher, student, password, course, chromium
                if request.node.rep_call.failed:  # what each open page showed
                    for k, page in enumerate(p for context in chromium.contexts for p in context.pages):
                        page.screenshot(path=SHOTS / f"failed_{k}.png")
                chromium.close()
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(state / "jupyterhub.log", SHOTS / "jupyterhub.log")  # kept: the users' folders go


def log_in(chromium, url: str, user: str, password: str):
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/hub/login")
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    page.locator("input[type=submit], button[type=submit]").first.click()
    try:
        page.wait_for_url(f"{url}/user/{user}/lab**", timeout=120_000)
    except sync_api.TimeoutError:
        page.screenshot(path=SHOTS / f"failed_login_{user}.png")
        raise
    page.locator(".jp-LabShell").wait_for(timeout=120_000)
    return page


def open_assignments(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()


def test_on_jupyterhub_a_student_fetches_edits_validates_and_submits_and_formgrader_shows_it(hub):
    m, url, teacher, student, password, course, chromium = hub
    page = log_in(chromium, url, student, password)
    page.screenshot(path=SHOTS / "1_student_logged_in.png")
    open_assignments(page)
    released = page.locator("#released_assignments_list")
    released.get_by_text(A).first.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "2_student_assignments_released.png")
    released.get_by_role("button", name="Fetch").first.click()
    fetched = page.locator("#fetched_assignments_list")
    fetched.get_by_text(A).first.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "3_student_fetched.png")

    page.goto(f"{url}/user/{student}/lab/tree/{A}/{A}.ipynb")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
    reference = build(A)
    for cell in reference.cells:  # the learner writes each graded function (typed in without auto-indent)
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            editor = page.locator(".jp-CodeCell", has_text=cell.source.splitlines()[0]).first.locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(cell.source)
    page.keyboard.press("Control+s")
    page.screenshot(path=SHOTS / "4_student_edited.png")
    page.locator("jp-button.validate-button:visible").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Success! Your notebook passes all the tests.").wait_for(timeout=180_000)
    page.screenshot(path=SHOTS / "5_student_validated.png")
    dialog.locator("button").last.click()

    open_assignments(page)
    fetched = page.locator("#fetched_assignments_list")
    fetched.get_by_role("button", name="Submit").first.click()
    page.locator("#submitted_assignments_list").get_by_text(A).first.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "6_student_submitted.png")
    page.close()

    page = log_in(chromium, url, teacher, password)
    page.goto(f"{url}/user/{teacher}/formgrader/manage_assignments")
    row = page.locator("tr", has_text=A).first
    row.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "7_instructor_formgrader.png")
    row.locator("td.collect a").click()  # Formgrader's Collect
    page.get_by_text(f"Successfully collected submissions of '{A}'.").wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "8_instructor_collected.png")
    page.locator(".modal-footer button").last.click()
    row.locator("td.num-submissions", has_text="1").wait_for(timeout=60_000)

    graded = m.run(teacher, "python", "-m", "grader", "grade", str(course), cwd=course)  # in place of autograde
    page.goto(f"{url}/user/{teacher}/formgrader/manage_submissions/{A}")
    submission = page.locator("tr", has_text=student).first
    submission.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "9_instructor_graded.png")
    assert "13 / 13" in submission.inner_text(), (submission.inner_text(), graded.stdout)

    page.goto(f"{url}/user/{teacher}/formgrader/manage_assignments")
    page.locator("tr", has_text=A).first.locator("td.release-feedback a").click()
    page.get_by_text(f"Successfully released feedback of '{A}'.").wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "10_instructor_released_feedback.png")
    page.close()

    page = log_in(chromium, url, student, password)
    open_assignments(page)
    page.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback").first.click()
    page.locator("#submitted_assignments_list").get_by_text("view feedback").first.wait_for(timeout=60_000)
    page.screenshot(path=SHOTS / "11_student_fetched_feedback.png")
    feedback = list((m.base / "home" / student / A / "feedback").glob(f"*/{A}.html"))
    assert len(feedback) == 1 and "13.0 / 13.0" in feedback[0].read_text()


def test_the_hub_command_names_what_is_missing():
    done = subprocess.run([sys.executable, "-m", "grader", "hub", "--instructor", "rnn-nobody", "--students",
                           "rnn-nobody2"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert "no such user on this machine: rnn-nobody, rnn-nobody2" in done.stderr and "useradd" in done.stderr


def test_the_hub_finds_the_folders_closed_to_other_users(tmp_path):
    closed = tmp_path / "course"
    (closed / "env" / "bin").mkdir(parents=True)
    closed.chmod(0o700)
    assert closed_to_users([closed / "env" / "bin"])[closed] == {"env"}
    closed.chmod(0o755)
    assert closed not in closed_to_users([closed / "env" / "bin"])
