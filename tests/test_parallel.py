"""experiments/core/parallel.py: commands run at once, each with its own log; exits reported as they
come (a failure with its last line); a SIGTERM to the launcher reaches every child."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from tests.experiments_support import needs_experiments

needs_experiments()
from experiments.core.parallel import run_processes  # noqa: E402

# A child that records its start time, waits `delay` seconds, then prints and exits with `code`.
CHILD = ("import sys, time; open(sys.argv[1], 'w').write(repr(time.time())); time.sleep(float(sys.argv[2])); "
         "print('first line'); print(sys.argv[3]); sys.exit(int(sys.argv[4]))")


def test_commands_run_at_once_with_their_logs_and_exit_statuses(tmp_path, capsys):
    """Two children that each sleep 1 s start before either ends (they overlap), write their output
    to their own log, and the failing one is reported with the last line of its log."""
    commands = {name: [sys.executable, "-c", CHILD, str(tmp_path / f"{name}.start"), "1", message, code]
                for name, message, code in (("a", "all good", "0"), ("b", "error: bad input", "2"))}
    logs = {name: tmp_path / "logs" / f"{name}.log" for name in commands}
    t0 = time.perf_counter()
    codes = run_processes(commands, logs, prefix="[test] ", poll_s=0.05)
    assert codes == {"a": 0, "b": 2}
    starts = [float((tmp_path / f"{n}.start").read_text()) for n in "ab"]
    assert abs(starts[0] - starts[1]) < 1.0  # b started while a was still sleeping
    assert logs["b"].read_text().splitlines() == ["first line", "error: bad input"]
    err = capsys.readouterr().err
    assert "[test] a: done" in err and "[test] b: exit 2: error: bad input" in err
    assert time.perf_counter() - t0 < 30


@pytest.mark.skipif(os.name != "posix", reason="signals as on POSIX")
def test_a_sigterm_to_the_launcher_is_passed_to_every_child(tmp_path):
    """The children would sleep 60 s; a SIGTERM to this process half a second in reaches both (each
    exits with its handler's status 143) and run_processes returns long before the 60 s."""
    child = ("import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(143)); "
             "print('ready', flush=True); time.sleep(60)")
    commands = {name: [sys.executable, "-c", child] for name in ("a", "b")}
    logs = {name: tmp_path / f"{name}.log" for name in commands}

    def stop_when_ready():
        deadline = time.time() + 30
        while time.time() < deadline and not all(p.exists() and "ready" in p.read_text() for p in logs.values()):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_ready, daemon=True).start()
    t0 = time.perf_counter()
    assert run_processes(commands, logs, poll_s=0.05) == {"a": 143, "b": 143}
    assert time.perf_counter() - t0 < 45
