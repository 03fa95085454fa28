"""Standard intrinsic-dimension estimators (scikit-dimension) on the same samples as the trained models.

All of them aim at the intrinsic dimension r (they measure how neighbourhoods scale, not how the data
can be encoded). scikit-dimension is an optional extra (`pip install 'infgrad[baselines]'`); without
it `estimate_all` returns no numbers and names every skipped estimator with the reason.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

# name -> (scikit-dimension class, constructor keywords, what it is)
BASELINES: dict[str, tuple[str, dict, str]] = {
    "mle": ("MLE", {}, "Levina-Bickel maximum likelihood on 20 nearest neighbours (Haro's integral)"),
    "twonn": ("TwoNN", {}, "ratio of the two nearest-neighbour distances (Facco et al.)"),
    "danco": ("DANCo", {"ver": "DANCoFit", "fractal": True},
              "DANCo with the package's precomputed calibration table (fractal output), dimensions "
              "searched up to min(d, 100)"),
    "lpca": ("lPCA", {}, "global PCA, Fukunaga-Olsen rule (eigenvalues above 5% of the largest)"),
}


def available() -> tuple[bool, str]:
    """(True, "") when scikit-dimension imports, else (False, the reason)."""
    try:
        import skdim  # noqa: F401
    except ImportError as err:
        return False, f"scikit-dimension is not installed ({err}); pip install 'infgrad[baselines]'"
    return True, ""


def estimate(name: str, x: np.ndarray, seed: int = 0) -> float:
    """One baseline's estimate of r on x (n, d)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    import skdim

    cls_name, kwargs, _ = BASELINES[name]
    cls = getattr(skdim.id, cls_name)
    if "random_state" in cls.__init__.__code__.co_varnames:
        kwargs = {**kwargs, "random_state": seed}
    if name == "danco":
        # the calibration table covers dimensions 1..100; D caps the search, not the data (d = 784
        # would otherwise be refused), and every r here is below 100
        kwargs = {**kwargs, "D": min(np.asarray(x).shape[1], 100)}
    with warnings.catch_warnings():
        # the estimators warn on ties and small neighbourhoods; the number is what is reported
        warnings.simplefilter("ignore")
        value = float(cls(**kwargs).fit(np.asarray(x, dtype=np.float64)).dimension_)
    return value


def estimate_all(x: np.ndarray, seed: int = 0) -> tuple[dict[str, float], dict[str, str]]:
    """Every baseline on x: ({name: r_hat}, {name: reason skipped}). A baseline that raises or gives
    a non-finite number is skipped with its error as the reason (never a silent NaN)."""
    ok, reason = available()
    if not ok:
        return {}, {name: reason for name in BASELINES}
    values, skipped = {}, {}
    for name in BASELINES:
        try:
            value = estimate(name, x, seed)
        except Exception as err:  # a third-party estimator failing on one data set: report, go on
            skipped[name] = f"{type(err).__name__}: {err}"
            continue
        if not math.isfinite(value):
            skipped[name] = f"non-finite estimate {value}"
        else:
            values[name] = value
    return values, skipped
