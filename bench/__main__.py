"""Run every bench section, or the ones named: `python -m bench`, `python -m bench gateway`.

A section is a module of this package with `run(*, seconds: float) -> None` that starts what it measures as
child processes (bench.tools), measures, and prints its own table; register it in SECTIONS below.
"""

import argparse
import importlib
import os
import sys
import time

# section name → module with `run(*, seconds: float) -> None`; later sections add themselves here.
SECTIONS = {
    "gateway": "bench.gateway",
    "budget": "bench.budget_flow",
    "analytics": "bench.analytics",
    "expense_list": "bench.expense_list",
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="section",
                        help=f"one or more of: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "6")),
                        help="duration of each measured point (default 6, or $BENCH_SECONDS)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    started = time.monotonic()
    failed = []
    for name in args.sections or list(SECTIONS):
        try:  # one broken section must not hide the others' figures
            importlib.import_module(SECTIONS[name]).run(seconds=args.seconds)
        except (Exception, SystemExit) as exc:
            failed.append(name)
            print(f"[bench] section {name} failed: {exc}", file=sys.stderr, flush=True)
    print(f"\n[bench] done in {time.monotonic() - started:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
