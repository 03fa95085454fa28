"""Executable lessons on the paper's argument (figures/README.md as notebooks with checked exercises).

The lessons are jupytext percent-format sources `lessons/NN_name.py`; `lessons.build` turns them into
student and teacher notebooks (`infgrad lessons --out DIR`). Their exercises are checked by the
functions of `lessons.checks`, which compute the expected answer from theory/ and proofs_check/.
"""
