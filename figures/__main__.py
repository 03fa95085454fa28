"""`python -m figures`: the same as `infgrad figures`."""
import argparse
import sys

from figures.build import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m figures", description="build the tutorial's figures")
add_arguments(parser)
sys.exit(run(parser.parse_args()))
