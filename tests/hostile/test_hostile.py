"""Every hostile case (cases.py) exits 2 with one located paragraph, no traceback, nothing written, in bounded
time and memory, measured per case by the forking worker (worker.py): one Python start for all cases."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.cases import CASES, Case, Special

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
MAX_SECONDS = 5.0
MAX_RSS_MIB = 300.0
MAX_STDERR_CHARS = 4000  # a few located lines; the alias bomb printed 527 MB


def _write(path: Path, content: Any, case_dir: Path) -> None:
    if isinstance(content, Special):
        kind, _, arg = content.kind.partition(":")
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dir":
            path.mkdir()
        elif kind == "sparse":
            with open(path, "wb") as handle:
                handle.truncate(int(arg))  # no blocks allocated
        elif kind == "symlink":
            path.symlink_to(arg)
        elif kind == "socket":
            server = socket.socket(socket.AF_UNIX)
            server.bind(str(path))
            server.close()  # the socket file stays
        return
    if isinstance(content, str):
        content = content.replace("{dir}", str(case_dir)).encode("utf-8", "surrogatepass")
    path.write_bytes(content)


def _target(case: Case, case_dir: Path) -> Any:
    if not isinstance(case.target, str) or case.target == "" or case.target.startswith("/"):
        return case.target
    return str(case_dir / case.target)


def _listing(directory: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(directory)), p.lstat().st_size) for p in directory.rglob("*"))


def run_cases(cases: list[dict], timeout: float = 600) -> dict[str, dict]:
    """One worker process for all `cases` (see worker.py); returns results by id."""
    result = subprocess.run([str(PYTHON), str(REPO / "tests" / "hostile" / "worker.py")], input=json.dumps(cases),
                            capture_output=True, text=True, timeout=timeout, cwd=REPO,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("hostile")
    jobs, before, dirs = [], {}, {}
    for case in CASES:
        case_dir, cwd = base / case.id, base / f"{case.id}.cwd"
        case_dir.mkdir()
        cwd.mkdir()
        for name, content in case.files.items():
            _write(case_dir / name, content, case_dir)
        if case.text is not None:
            _write(case_dir / "deployments.yaml", case.text, case_dir)
        before[case.id] = _listing(case_dir)
        dirs[case.id] = (case_dir, cwd)
        target = _target(case, case_dir)
        for mode in case.modes:
            args = [a.replace("{dir}", str(case_dir)) for a in case.argv] if mode == "cli" else [target]
            jobs.append({"id": f"{case.id}@{mode}", "mode": mode, "args": args, "cwd": str(cwd)})
    out = run_cases(jobs)
    after = {case.id: (_listing(dirs[case.id][0]), _listing(dirs[case.id][1])) for case in CASES}
    return {"out": out, "before": before, "after": after}


PARAMS = [pytest.param(c, m, id=f"{c.id}@{m}") for c in CASES for m in c.modes]


@pytest.mark.parametrize("case,mode", PARAMS)
def test_hostile_case_refused(case: Case, mode: str, results) -> None:
    got = results["out"][f"{case.id}@{mode}"]
    err = got["stderr"]
    assert "Traceback" not in err, err
    assert got["exit"] == 2, (got["exit"], err[:2000])
    assert got["stdout"] == "", got["stdout"][:500]
    assert len(err) < MAX_STDERR_CHARS, f"{len(err)} characters on stderr"
    lines = err.splitlines()
    assert lines, got
    if mode in ("app", "cli"):  # one paragraph
        assert len(lines) == 1 and lines[0].startswith("error: "), f"not one paragraph: {err!r}"
    else:  # validate: FILE:LINE:COL lines (or the file alone when it cannot be read)
        assert all(not line.startswith(("error", "Error", "Usage")) for line in lines), err
    for fragment in case.expect:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    if case.names_file:
        name = os.path.basename(case.target) if isinstance(case.target, str) else ""
        assert name in lines[0], f"{name!r} not named in {lines[0]!r}"
    assert got["seconds"] < MAX_SECONDS, got["seconds"]
    assert got["maxrss_mib"] < MAX_RSS_MIB, got["maxrss_mib"]
    input_after, cwd_after = results["after"][case.id]
    assert input_after == results["before"][case.id], "the input directory changed"
    assert cwd_after == [], f"files written: {cwd_after}"


def test_catalog_size_and_measured_bounds(results) -> None:
    """The catalog has at least 100 cases; print the measured maxima (pytest -s shows them)."""
    assert len(CASES) >= 100
    runs = [v for k, v in results["out"].items() if k != "__worker__"]
    slowest = max(runs, key=lambda r: r["seconds"])
    largest = max(runs, key=lambda r: r["maxrss_mib"])
    print(f"\nhostile: {len(CASES)} cases, {len(runs)} runs; slowest {slowest['id']} {slowest['seconds']:.3f} s; "
          f"largest {largest['id']} {largest['maxrss_mib']} MiB peak RSS; worker {results['out']['__worker__']}")
    assert slowest["seconds"] < MAX_SECONDS and largest["maxrss_mib"] < MAX_RSS_MIB
