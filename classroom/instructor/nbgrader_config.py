"""nbgrader's settings for the instructor on the hub (on their JUPYTER_CONFIG_PATH): the class folder's own,
whose course root, gradebook and exchange Formgrader then uses, whichever folder the server started in."""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
load_subconfig(os.path.join(os.environ["RNN_HUB_COURSE"], "nbgrader_config.py"))  # noqa: F821
