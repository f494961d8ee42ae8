"""nbgrader's settings for the students of a JupyterHub class (the hub puts this folder on their
JUPYTER_CONFIG_PATH): which course they fetch from and submit to, and where the exchange is."""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
c.CourseDirectory.course_id = "rnn-course"
c.Exchange.root = os.environ.get("RNN_HUB_EXCHANGE", "/srv/nbgrader/exchange")
