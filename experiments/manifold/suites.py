"""The suites of `infgrad manifold`: which manifolds, with which recipe, and the squeezed-curve sweep.

A manifold is listed as (kind, arguments) and built only when its turn comes (data.py generators,
seeded). `parse_manifold` reads the command line's KIND:D:R form.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from experiments.manifold import data
from experiments.manifold.curve import CurveSettings
from experiments.manifold.protocol import Recipe

GENERATORS = {"subspace": data.linear_subspace, "sphere": data.sphere, "torus": data.torus,
              "relu": data.relu_network}
N_SAMPLES = 2500  # as scikit-dimension's benchmark default and the baselines' usual setting


@dataclass(frozen=True)
class Spec:
    """One manifold of a suite: generator kind and its keyword arguments (n and seed added here)."""

    kind: str
    args: tuple[tuple[str, object], ...] = ()
    recipe_changes: tuple[tuple[str, object], ...] = ()  # this manifold's departures from the suite's

    def build(self, n: int = N_SAMPLES, seed: int = 0) -> data.Manifold:
        kwargs = dict(self.args)
        if self.kind == "benchmark":
            return data.benchmark(kwargs["name"], n=n, seed=seed)
        return GENERATORS[self.kind](n=n, seed=seed, **kwargs)

    @property
    def label(self) -> str:
        kwargs = dict(self.args)
        if self.kind == "benchmark":
            return str(kwargs["name"])
        tag = f"{self.kind}_d{kwargs['d']}_r{kwargs['r']}"
        return tag + (f"_noise{kwargs['noise']:g}" if kwargs.get("noise") else "")


def spec(kind: str, recipe_changes: dict | None = None, **kwargs) -> Spec:
    return Spec(kind, tuple(sorted(kwargs.items())), tuple(sorted((recipe_changes or {}).items())))


# The random ReLU-network manifold needs a wider network and longer training for gamma to keep
# falling: measured with the warmup at gamma = 1 (r = 12, d = 200), width 256 x 2 stalls at gamma
# 4e-3 with 30 of 32 dimensions in use, 256 x 3 at 2.2e-3 with 21, while 512 x 2 keeps exactly 12
# from the warmup on and reaches 5e-4 after 17,000 steps, still falling at each drop of the rate.
# The fixed-gamma* arm is left out here: as long again as the three learned stages, it would double
# the suite's longest manifold (about 35,000 steps of the 512-wide network) past the quick suite's budget.
RELU_RECIPE = {"hidden": 512, "learned_iters": 9000, "finetune_iters": 6000, "fixed_gamma_run": False}


@dataclass(frozen=True)
class Suite:
    manifolds: tuple[Spec, ...]
    recipe: Recipe
    curve: CurveSettings | None
    n: int = N_SAMPLES
    notes: tuple[str, ...] = field(default=())


PENALTIES_SWEPT = ("log", "log_shift", "ratio", "linear", "sqrt", "vae")

SUITES: dict[str, Suite] = {
    # Seconds: the test suite's end-to-end run (the numbers mean nothing at this size).
    "smoke": Suite(
        manifolds=(spec("subspace", d=6, r=2),),
        recipe=Recipe(hidden=64, batch_size=100, lr_log_gamma=3e-2, warmup_iters=200, learned_iters=200,
                      finetune_iters=50, rungs=(10.0, 100.0), rung_iters=300, lr_rung=1e-2,
                      jacobian_points=4),
        curve=CurveSettings(eps_values=(1.0, 0.01), models=("ratio", "vae"), iters=300),
        n=300),
    # The goals on a 2-core CPU: subspaces up to r = 30 in d = 784, curved manifolds with
    # topology, a random ReLU-network manifold, and Theorem 4's squeezed curve.
    "quick": Suite(
        manifolds=(spec("subspace", d=50, r=7), spec("subspace", d=784, r=30),
                   spec("subspace", d=784, r=30, noise=0.01), spec("sphere", d=50, r=5),
                   spec("torus", d=20, r=2), spec("relu", RELU_RECIPE, d=200, r=12)),
        recipe=Recipe(fixed_gamma_run=True),
        curve=CurveSettings(eps_values=(1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 0.001),
                            models=PENALTIES_SWEPT, iters=1500)),
    # scikit-dimension's 24 benchmark manifolds (needs the [baselines] extra for the data).
    "benchmark": Suite(
        manifolds=tuple(spec("benchmark", name=name) for name in data.benchmark_names()),
        recipe=Recipe(),
        curve=None),
}


def parse_manifold(text: str) -> Spec:
    """KIND:D:R (e.g. subspace:784:30, sphere:50:5) -> a Spec; a bad form is a ValueError."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in GENERATORS:
        raise ValueError(f"--manifold {text!r}: expected KIND:D:R with KIND one of "
                         f"{', '.join(GENERATORS)} (e.g. subspace:784:30)")
    try:
        d, r = int(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"--manifold {text!r}: D and R must be integers") from None
    built = spec(parts[0], d=d, r=r)
    built.build(n=2)  # the generator's own checks (r <= d, d >= 2r for a torus, ...) now, not later
    return built
