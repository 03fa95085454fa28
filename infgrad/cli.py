"""The `infgrad` command: a thin dispatcher over the project's parts.

Each subcommand lives in its own module, which provides `add_arguments(parser)` and
`run(args) -> int`. Only the chosen module is imported, so `infgrad verify` never loads torch.
A `ValueError`, `OSError` (as "path: problem", without the "[Errno N]" prefix) or `MemoryError`
raised by a subcommand becomes one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "verify": ("infgrad.verify", "numerical checks of Lemma 2, Lemma 3 and Theorem 4 (Eq. 11-25)"),
    "figures": ("figures.build", "draw every figure of the tutorial (figures/README.md)"),
    "lessons": ("lessons.build", "build the lessons (lessons/) into student and teacher notebooks"),
    "outlier": ("experiments.outlier.run", "Table 1: FashionMNIST inliers vs MNIST outliers"),
    "celeba": ("experiments.celeba.run", "Figure 4: learned gamma vs gamma fixed at gamma*"),
    "manifold": ("experiments.manifold.run",
                 "manifold dimension: learned-gamma VAE vs bounded penalties vs ID estimators"),
}


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (and exit status 2) instead of usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _build_parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="infgrad", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def describe_error(err: Exception) -> str:
    """The one line for an error: an OSError names its path(s) and the problem in words (not
    "[Errno 2] No such file or directory: 'x'"); a MemoryError says so; anything else as it is."""
    if isinstance(err, OSError) and err.strerror:
        paths = [str(p) for p in (err.filename, err.filename2) if p is not None]
        return f"{' -> '.join(paths)}: {err.strerror}" if paths else err.strerror
    if isinstance(err, MemoryError):
        return f"out of memory{': ' + str(err) if str(err) else ''}"
    return str(err)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    if chosen is not None and chosen not in SUBCOMMANDS:
        chosen = None
    parser = _build_parser(chosen)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:
        # The reader went away (`infgrad verify | head`): stop quietly, as Unix tools do.
        sys.stderr.close()
        return 141
    except (ValueError, OSError, MemoryError) as err:
        print(f"infgrad {args.command}: error: {describe_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"infgrad {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
