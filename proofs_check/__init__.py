"""Symbolic (sympy) re-derivation of the proofs of Lemma 2, Lemma 3 and Theorem 4 (supplement
sections 8.1-8.3) and of main-text Eq. (5) and (8), one module per proof, each a list of named steps.
`python -m proofs_check` runs them all; proofs_check/REPORT.md is its Markdown output.
"""
from __future__ import annotations


def all_steps():
    """Every step, in the order of the paper: lemma2, lemma3, theorem4, main_text."""
    from proofs_check import lemma2, lemma3, main_text, theorem4

    return [*lemma2.STEPS, *lemma3.STEPS, *theorem4.STEPS, *main_text.STEPS]
