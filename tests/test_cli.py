"""infgrad/cli.py: the dispatcher's one-line errors. An OSError names its path and the problem in
words, without Python's "[Errno N]" prefix; a MemoryError says so."""
from __future__ import annotations

import errno
import os

import pytest

from infgrad import cli


@pytest.mark.parametrize("err, line", [
    (FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/proc/x"),
     f"/proc/x: {os.strerror(errno.ENOENT)}"),
    (OSError(errno.EXDEV, os.strerror(errno.EXDEV), "/a", None, "/b"), f"/a -> /b: {os.strerror(errno.EXDEV)}"),
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), os.strerror(errno.ENOSPC)),
    (MemoryError(), "out of memory"),
    (ValueError("--kappa 0: must be positive"), "--kappa 0: must be positive"),
])
def test_errors_are_described_without_the_errno_prefix(err, line):
    assert cli.describe_error(err) == line
    assert "[Errno" not in cli.describe_error(err)


def test_a_subcommand_oserror_is_one_line_with_exit_2(monkeypatch, capsys):
    """Whatever OSError a subcommand lets through reaches the user as 'infgrad X: error: path: problem'."""
    class Failing:
        @staticmethod
        def add_arguments(parser):
            pass

        @staticmethod
        def run(args):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/root/x")

    monkeypatch.setattr(cli.importlib, "import_module", lambda name: Failing)
    assert cli.main(["figures"]) == 2
    assert capsys.readouterr().err == f"infgrad figures: error: /root/x: {os.strerror(errno.EACCES)}\n"
