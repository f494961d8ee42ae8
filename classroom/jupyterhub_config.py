"""JupyterHub for one class of this course on one machine: the instructor and the students are this machine's
users, each with JupyterLab and nbgrader's extensions from the environment the hub runs in.

Students get the Assignments tab (fetch, Validate, submit, fetch feedback) and no Formgrader; the instructor's
server opens in the class folder, with Formgrader on that class. Start it with
`sudo .venv/bin/python -m grader hub --instructor NAME --students A,B` (README, "A class on JupyterHub"), which
prepares the class folder and the exchange and sets these variables:

RNN_HUB_INSTRUCTOR  the instructor's user name          RNN_HUB_STUDENTS  the students' user names, comma-separated
RNN_HUB_COURSE      the instructor's class folder       RNN_HUB_EXCHANGE  nbgrader's exchange folder
RNN_HUB_STATE       the hub's own files (database, cookie secret)
RNN_HUB_PORT        the port it listens on, on 127.0.0.1 (default 8000)
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

instructor = os.environ["RNN_HUB_INSTRUCTOR"]
students = [name for name in os.environ.get("RNN_HUB_STUDENTS", "").split(",") if name]
state = Path(os.environ.get("RNN_HUB_STATE", "/srv/rnn-hub"))

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("RNN_HUB_PORT", "8000"))
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

# Who may log in: the machine's own accounts (PAM), only these.
c.Authenticator.allowed_users = {instructor, *students}
c.Authenticator.admin_users = {instructor}

# Each user's JupyterLab runs as that user (the default LocalProcessSpawner), from this environment.
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"RNN_HUB_EXCHANGE": os.environ["RNN_HUB_EXCHANGE"],
                         "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}


def pre_spawn_hook(spawner):
    """The instructor's server opens in the class folder, with its nbgrader settings (classroom/instructor:
    Formgrader on that class); a student's in their home, with the students' settings (classroom/student: the
    course and the exchange, no Formgrader)."""
    if spawner.user.name == instructor:
        spawner.notebook_dir = os.environ["RNN_HUB_COURSE"]
        settings = {"JUPYTER_CONFIG_PATH": str(HERE / "instructor"), "RNN_HUB_COURSE": os.environ["RNN_HUB_COURSE"]}
    else:
        settings = {"JUPYTER_CONFIG_PATH": str(HERE / "student")}
    spawner.environment = {**spawner.environment, **settings}


c.Spawner.pre_spawn_hook = pre_spawn_hook
