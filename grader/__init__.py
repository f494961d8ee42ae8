"""The course's autograder: checks called by the notebooks' tests, the tolerance policy, and the
command-line entry points (`python -m grader ...`) that wrap nbgrader."""
