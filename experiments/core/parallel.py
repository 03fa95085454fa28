"""Several runs at once, one process each (e.g. the six kappa of Table 1 sharing one GPU): start
every command, send its output to a log file, relay SIGINT/SIGTERM so each child checkpoints and
stops, and report each exit as it comes. The processes share nothing but the device.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from experiments.core.runs import StopFlag

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def last_line(path: Path) -> str:
    """The last non-empty line of a log (a child's one-line error, or its last progress)."""
    lines = [line for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def run_processes(commands: dict[str, list[str]], logs: dict[str, Path], *, append: bool = False,
                  prefix: str = "", poll_s: float = 0.2) -> dict[str, int]:
    """Run every command of `commands` (label -> argv) at once, the output of each in logs[label]
    (appended to with `append`); return label -> exit status once all have exited. The children
    import this checkout's code (PYTHONPATH starts with the project root). A SIGINT or SIGTERM to
    this process is passed on to every child still running (commands not started yet are left out
    of the result); this process waits for them."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    processes: dict[str, subprocess.Popen] = {}
    codes: dict[str, int] = {}
    relayed = 0
    with StopFlag() as stop:  # before the first start: a signal at any time reaches the children
        try:
            for label, argv in commands.items():
                if stop.signum:  # stopped while starting: the rest never start
                    break
                logs[label].parent.mkdir(parents=True, exist_ok=True)
                with open(logs[label], "a" if append else "w") as log:
                    processes[label] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                        stdin=subprocess.DEVNULL, env=env)
                print(f"{prefix}{label}: started (pid {processes[label].pid}), log {logs[label]}",
                      file=sys.stderr)
            while len(codes) < len(processes):
                if stop.signum and stop.signum != relayed:
                    relayed = stop.signum
                    for label, process in processes.items():
                        if label not in codes:
                            process.send_signal(stop.signum)
                for label, process in processes.items():
                    if label not in codes and process.poll() is not None:
                        codes[label] = process.returncode
                        outcome = "done" if process.returncode == 0 else \
                            f"exit {process.returncode}: {last_line(logs[label])}"
                        print(f"{prefix}{label}: {outcome}", file=sys.stderr)
                time.sleep(poll_s)
        finally:  # an error here (e.g. a command that cannot start) must not leave children running
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
                    process.wait()
    return codes
