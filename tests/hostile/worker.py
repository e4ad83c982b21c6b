"""Run many CLI invocations cheaply and measure each: import the selector once, then fork per case.

Reads a JSON list of cases on stdin ({"id", "mode", "args", "cwd"}) and prints one JSON object of results. Each
case runs in a forked child (so a case cannot affect the next one) whose stdout/stderr go to files, with an
alarm (a hang ends as a killed child, not a hung suite), a file-size limit (a flood of output ends as SIGXFSZ)
and an address-space limit (a memory bomb ends as MemoryError, not a swapping machine). The parent times the
child and reads its peak resident set from os.wait4's rusage (ru_maxrss, KiB on Linux), which includes the
pages it shares with the parent: the same figure a fresh `python -m selector` process would report.

Modes: "validate" runs `python -m selector validate ARGS...` through click; "cli" runs `python -m selector ARGS...`;
"app" runs exactly what app.py runs before it builds stacks (load_deployments, resolve_all, one `error: `
paragraph on stderr, exit 2).
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ALARM_SECONDS = 30  # a child still running then is killed (the test's own bound is far lower)
MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # RLIMIT_FSIZE of the child's output files
MAX_ADDRESS_SPACE = 3 * 1024**3  # RLIMIT_AS of the child: far above the 300 MB the tests allow


def _app_path(args: list[str]) -> int:
    """app.py's build_app up to the first stack: the same calls, the same one-paragraph error."""
    from selector.deployments import load_deployments, resolve_all
    from selector.errors import SelectorError

    try:
        resolve_all(load_deployments(args[0] if args else None))
    except SelectorError as error:
        print(f"error: {error.paragraph()}", file=sys.stderr)
        return 2
    return 0


def _child(case: dict, out: str, err: str) -> None:
    code = 70
    try:
        os.chdir(case["cwd"])
        fd_out = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd_out, 1)
        os.dup2(fd_err, 2)
        sys.stdout = os.fdopen(1, "w", closefd=False)
        sys.stderr = os.fdopen(2, "w", closefd=False)
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES))
        resource.setrlimit(resource.RLIMIT_AS, (MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE))
        signal.alarm(ALARM_SECONDS)
        if case["mode"] == "app":
            code = _app_path(case["args"])
        else:
            from selector.cli import main

            argv = case["args"] if case["mode"] == "cli" else ["validate", *case["args"]]
            try:
                main(args=argv, prog_name="selector", standalone_mode=True)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported to the test as a traceback on stderr
        traceback.print_exc()
        code = 99
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run(case: dict, scratch: Path) -> dict:
    out, err = scratch / f"{case['id']}.out", scratch / f"{case['id']}.err"
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(case, str(out), str(err))
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start

    def read(path: Path) -> str:
        return path.read_bytes()[:200_000].decode("utf-8", "replace") if path.exists() else ""

    return {"id": case["id"], "exit": os.waitstatus_to_exitcode(status), "seconds": round(seconds, 4),
            "maxrss_mib": round(usage.ru_maxrss / 1024, 1), "stdout": read(out), "stderr": read(err)}


def warm_up() -> None:
    """Import and load what every case needs, once (the point of forking)."""
    import selector.cli  # noqa: F401
    import selector.resolve  # noqa: F401
    from selector.catalog import load_catalog
    from selector.deployments import check_file

    load_catalog()
    check_file(str(REPO / "deployments" / "default.yaml"))


def main() -> None:
    cases = json.load(sys.stdin)
    warm_up()
    results = {}
    with tempfile.TemporaryDirectory(prefix="hostile-out-") as scratch:
        for case in cases:
            results[case["id"]] = run(case, Path(scratch))
    results["__worker__"] = {"maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
