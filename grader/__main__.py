"""Command line: `python -m grader {check,release,grade,demo}`; run with -h for details."""

import argparse
import sys
import time
from pathlib import Path

from grader.course import REPO, GraderError
from grader.i18n import LANGUAGES, speaking, tr

USAGE = """examples:
  python -m grader check notebooks/01_rnn/01_rnn.ipynb   your points per part, hidden tests included
  python -m grader release                               regenerate notebooks/ from solutions/
  python -m grader release --check                       fail if notebooks/ is out of date
  python -m grader grade COURSE_DIR                      grade COURSE_DIR/submitted/<student>/<assignment>/
  python -m grader grade COURSE_DIR --scheduler tcp://scheduler:8786   ... on a Dask cluster
  python -m grader demo                                  the whole pipeline on the bundled sample class
  python -m grader bench                                 time notebooks, grading and the LSTM variants
  python -m grader lab                                   JupyterLab for learners (Validate button on)
  python -m grader lab --port 8899                       ... options it does not know go to jupyter lab
  python -m grader lab build/sample_class                JupyterLab with Formgrader on a graded class
  sudo python -m grader hub --instructor kim --students lee,park   a class on JupyterHub on this machine
"""


def cmd_check(args) -> int:
    from grader.selfcheck import check, report

    verdict = check(args.notebook, lang=args.lang)
    print(report(args.notebook, verdict))
    return 0 if verdict.score == verdict.max_score else 1


def cmd_release(args) -> int:
    from grader.release import release

    diff = release(check_only=args.check)
    if args.check:
        print("\n".join(diff) if diff else "notebooks/ is up to date with solutions/")
        if diff:
            print("run `python -m grader release` to regenerate notebooks/", file=sys.stderr)
        return 1 if diff else 0
    print("\n".join(["regenerated notebooks/:"] + diff) if diff else "notebooks/ was already up to date")
    return 0


def _grade(root: Path, args) -> int:
    """Grade a class; exit 0 when every submission is recorded, 1 when some need attention (a grader error),
    2 for bad input, another run on the class or a full disk, 130 when stopped (a rerun resumes)."""
    import resource
    import signal

    from grader.classroom import NEEDS_ATTENTION, Interrupted, grade_class, table
    from grader.isolation.sandbox import Limits, describe_mode, mode

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill` stops as cleanly as Ctrl-C
    start = time.perf_counter()
    limits = Limits(cell_seconds=args.cell_timeout, submission_seconds=args.budget,
                    memory_bytes=int(args.memory * 2**30))
    try:
        results = grade_class(root, workers=args.workers, limits=limits, force=args.force, scheduler=args.scheduler)
    except Interrupted as e:
        print(e, file=sys.stderr)
        return 130
    print(table(results))
    now = [r for r in results if r.regraded]
    ran = [r for r in now if r.seconds]
    attention = [r for r in results if r.status.startswith(NEEDS_ATTENTION)]
    modes = sorted({r.sandbox for r in now if r.sandbox}) or [mode()]
    where = f"on the cluster at {args.scheduler}" if args.scheduler else f"with {args.workers} worker(s)"
    print(f"\n{len(results)} notebook-submissions: {len(now)} graded now, {len(results) - len(now)} kept "
          f"(unchanged since their recorded verdict) in {time.perf_counter() - start:.1f} s {where} "
          f"(grading per submission: {sum(r.seconds for r in ran) / max(len(ran), 1):.1f} s on average; "
          f"the grader's peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")
    print("sandbox   " + "; ".join(describe_mode(m) for m in modes))
    if attention:
        print(f"ATTENTION {len(attention)} submission(s) could not be graded because of a grader error (their "
              "status in scores.csv says which); run the same command again to retry them")
    print(f"gradebook {root / 'gradebook.db'}\nscores    {root / 'scores.csv'} and {root / 'parts.csv'}\n"
          f"feedback  {root / 'feedback'}/<student>/<assignment>/")
    return 1 if attention else 0


def cmd_grade(args) -> int:
    return _grade(Path(args.course_dir).resolve(), args)


def cmd_demo(args) -> int:
    from grader.course import new_workspace
    from grader.submissions import write_sample_class

    root = new_workspace(Path(args.workspace))
    students = write_sample_class(root / "submitted", args.copies)
    print(f"sample class of {len(students)} in {root}: {', '.join(students)}")
    return _grade(root, args)


def cmd_bench(args) -> int:
    from grader.bench import bench

    print(bench(args.out, tiny=args.tiny, grading=args.grading))
    print(f"\nwritten to {args.out}")
    return 0


def cmd_lab(args) -> int:
    from grader.lab import lab

    return lab(args.course_dir, args.jupyter_args)


def cmd_hub(args) -> int:
    from grader.hub import hub

    return hub(args.instructor, [s for s in args.students.split(",") if s], args.course_dir, args.port)


def _grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a Dask distributed cluster (tcp://host:8786); its workers need the course installed")
    p.add_argument("--force", action="store_true",
                   help="grade every submission again, even those unchanged since their recorded verdict")
    p.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell and per test (default 120)")
    p.add_argument("--budget", type=float, default=600.0,
                   help="seconds for one notebook-submission: all cells, tests and restarts (default 600)")
    p.add_argument("--memory", type=float, default=4.0,
                   help="GiB a submission may use: all its processes, /tmp and /dev/shm (default 4)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__, epilog=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="self-check one notebook")
    p.add_argument("notebook", type=Path)
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("release", help="generate notebooks/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report whether notebooks/ is up to date")
    p.set_defaults(run=cmd_release)
    p = sub.add_parser("grade", help="grade a class folder in nbgrader's layout")
    p.add_argument("course_dir", type=Path)
    _grading_options(p)
    p.set_defaults(run=cmd_grade)
    p = sub.add_parser("demo", help="grade the bundled sample class (the main job)")
    p.add_argument("--workspace", type=Path, default=REPO / "build" / "sample_class")
    p.add_argument("--copies", type=int, default=1, help="repeat the 3 sample students (7 copies: a class of 21)")
    _grading_options(p)
    p.set_defaults(run=cmd_demo)
    p = sub.add_parser("bench", help="time every notebook, grading at scale and notebook 06's LSTM variants")
    p.add_argument("--out", type=Path, default=REPO / "build" / "bench.md", help="the report (markdown)")
    p.add_argument("--tiny", action="store_true", help="a quick run on tiny sizes (what the tests run)")
    p.add_argument("--grading", action="store_true", help="only the sandbox's start and the class's grading")
    p.set_defaults(run=cmd_bench)
    p = sub.add_parser("lab", help="start JupyterLab on the course (or on a class folder) with nbgrader's extensions")
    p.add_argument("course_dir", type=Path, nargs="?", help="a graded class folder (default: the repository)")
    p.set_defaults(run=cmd_lab)
    p = sub.add_parser("hub", help="a class on JupyterHub on this machine (as root): the instructor and students "
                       "are its users")
    p.add_argument("--instructor", required=True, help="the instructor's user name")
    p.add_argument("--students", required=True, help="the students' user names, comma-separated")
    p.add_argument("--course-dir", type=Path, help="the class folder (default: ~INSTRUCTOR/rnn-course)")
    p.add_argument("--port", type=int, default=8000, help="JupyterHub's port on 127.0.0.1 (default 8000)")
    p.set_defaults(run=cmd_hub)
    for p in sub.choices.values():
        p.add_argument("--lang", choices=LANGUAGES, help="the language of messages and feedback (default: each "
                       "notebook's own; for other messages RNN_COURSE_LANG or the system's locale)")
    args, args.jupyter_args = parser.parse_known_args(argv)  # lab passes unknown options on to jupyter lab
    if args.jupyter_args and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(args.jupyter_args)}")
    with speaking(args.lang):
        try:
            return args.run(args)
        except GraderError as e:
            print(tr("error: {e}", e=e), file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
