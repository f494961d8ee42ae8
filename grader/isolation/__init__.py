"""The trust boundary: everything that stands between a submission's code and the grader.

- view.py: what the sandbox may see (the paths both walls are built from);
- sandbox.py: the grader's handle on a sandbox: bubblewrap + Landlock, limits, the process tree's watch;
- landlock.py: the Landlock rules the child applies to itself;
- child.py: the sandbox's side, which runs the learner's cells;
- wire.py: the data format between the two (JSON and raw buffers, never pickles);
- remote.py: stand-ins for the learner's functions in the grader's process;
- tripwire.py: the ready-made-op tripwire, which runs in the sandbox around a learner's call.
Nothing here may import the checks: the sandbox can read this package, not them.
"""
