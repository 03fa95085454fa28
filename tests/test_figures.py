"""figures/: every figure of the tutorial builds, its committed data file is current, and the output is
byte-stable. The numbers behind each figure are asserted in tests/test_slices.py, test_theta_path.py,
test_manifold.py (and the theory tests of theorem4, lemma2, lemma3, penalties)."""
import argparse
import json
import math

import numpy as np
import pytest

from figures import build, theorem4_figs
from figures._common import read_data, render, to_jsonable
from infgrad.tolerances import FIGURE_DATA_ATOL, FIGURE_DATA_RTOL, FIGURE_RATE_SLOPE_ATOL, ROOT_FIND_RTOL, ROUNDOFF_RTOL
from theory.theorem4 import crossover_eps_closed_form


@pytest.fixture(scope="module")
def fresh_data():
    """Every figure's data recomputed at full resolution, exactly as `infgrad figures` writes it."""
    out = {}
    for name in build.NAMES:
        compute, _ = build.figure_functions(name)
        out[name] = to_jsonable(compute(quick=False))
    return out


def _assert_same(fresh, committed, where="data"):
    """Recursive comparison: same keys, lengths and strings; numbers within the FIGURE_DATA tolerances."""
    if isinstance(fresh, dict):
        assert isinstance(committed, dict) and sorted(fresh) == sorted(committed), where
        for key in fresh:
            _assert_same(fresh[key], committed[key], f"{where}.{key}")
    elif isinstance(fresh, list):
        assert isinstance(committed, list) and len(fresh) == len(committed), where
        if fresh and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in fresh):
            np.testing.assert_allclose(np.asarray(fresh, float), np.asarray(committed, float),
                                       rtol=FIGURE_DATA_RTOL, atol=FIGURE_DATA_ATOL, err_msg=where)
        else:
            for k, (a, b) in enumerate(zip(fresh, committed)):
                _assert_same(a, b, f"{where}[{k}]")
    elif isinstance(fresh, float) and isinstance(committed, (int, float)):
        assert math.isclose(fresh, committed, rel_tol=FIGURE_DATA_RTOL, abs_tol=FIGURE_DATA_ATOL), where
    else:
        assert fresh == committed, where


def _inactive_rows_as_labels(data):
    """Figure 10's row RMS values below row_tol are Adam rattling around 0 (1e-36 to 1e-4): a
    last-bit change in the arithmetic moves them by far more than FIGURE_DATA_RTOL (measured: one ulp
    in the arc slopes moved one by 8e-7 relative), yet the figure only shows them as inactive rows.
    Compare them as the label "inactive"; every value at or above row_tol is compared as a number."""
    data = json.loads(json.dumps(data))
    for runs in data["runs"].values():
        for run in runs:
            run["row_rms"] = [[v if v >= data["row_tol"] else "inactive" for v in row]
                              for row in run["row_rms"]]
    return data


@pytest.mark.parametrize("name", build.NAMES)
def test_committed_data_is_current(fresh_data, name):
    """figures/img/<name>.json (what the committed PNG/SVG show) equals a fresh computation: rerun
    `infgrad figures` after changing theory/ or figures/ and commit the result."""
    committed = read_data(build.DEFAULT_OUT / f"{name}.json")
    fresh = fresh_data[name]
    if name == "fig10_gradient_descent_theta":
        fresh, committed = _inactive_rows_as_labels(fresh), _inactive_rows_as_labels(committed)
    _assert_same(fresh, committed, name)
    for ext in ("png", "svg"):
        assert (build.DEFAULT_OUT / f"{name}.{ext}").stat().st_size > 0


@pytest.mark.parametrize("name", build.NAMES)
def test_every_figure_draws_at_low_resolution(fresh_data, name, tmp_path):
    """Each figure draws from its data alone (Agg, 30 dpi PNG; the SVG path is checked once below)."""
    _, draw = build.figure_functions(name)
    (png,) = render(draw, fresh_data[name], tmp_path, name, dpi=30, formats=("png",))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_output_is_byte_stable(fresh_data, tmp_path):
    """Two renders of the same data give identical PNG and SVG bytes (svg.hashsalt, no metadata), and
    the SVG carries no date or version string."""
    name = "fig09_outlier_manifold"
    _, draw = build.figure_functions(name)
    first = [p.read_bytes() for p in render(draw, fresh_data[name], tmp_path / "a", name, dpi=40)]
    second = [p.read_bytes() for p in render(draw, fresh_data[name], tmp_path / "b", name, dpi=40)]
    assert first == second
    svg = first[1].decode()
    assert svg.lstrip().startswith("<?xml") and "<dc:date>" not in svg and "Matplotlib v" not in svg


def test_cli_quick_build_writes_all_three_files(tmp_path, capsys):
    """`infgrad figures --only outlier_manifold --quick --out DIR` writes .png, .svg and .json and its
    JSON holds the quick computation."""
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    args = parser.parse_args(["--only", "outlier_manifold", "--quick", "--dpi", "30", "--out", str(tmp_path)])
    assert build.run(args) == 0
    stem = tmp_path / "fig09_outlier_manifold"
    assert all(stem.with_suffix(ext).exists() for ext in (".png", ".svg", ".json"))
    compute, _ = build.figure_functions("outlier_manifold")
    _assert_same(to_jsonable(compute(quick=True)), json.loads(stem.with_suffix(".json").read_text()))
    assert "1 figure(s)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [(["--only", "nope"], "--only"), (["--dpi", "5"], "--dpi")])
def test_cli_bad_arguments_raise_one_line_value_error(argv, match):
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    with pytest.raises(ValueError, match=match):
        build.run(parser.parse_args(argv))


def test_json_keeps_infinities_as_strings():
    """-inf costs (h = log at theta = 1) survive the strict-JSON data files as the string "-inf"."""
    assert to_jsonable({"a": np.array([1.0, -np.inf, np.nan])}) == {"a": [1.0, "-inf", "nan"]}


# --- the numbers behind Figures 3, 4, 7 and 8 (their theory is tested in the theory modules' own test files;
# --- these check what the plotted data says) ----------------------------------------------------

def _slope(x, y, keep):
    x, y = np.log(np.asarray(x, float)[keep]), np.log(np.asarray(y, float)[keep])
    return np.polyfit(x, y, 1)[0]


def test_fig3_crossover_exists_exactly_for_the_penalties_with_finite_h_at_eps_zero(fresh_data):
    """Eq. (25): a band of non-sparse optima eps < eps* for every h with h(eps^2) -> h(0) finite (the
    bounded-gradient ones AND sqrt); none for log (h(0) = -inf) or the indicator (jump at 0)."""
    data = fresh_data["fig03_theorem4_costs"]
    star = {row["name"]: row["crossover_eps"] for row in data["costs"]}
    assert star["log"] == 0.0 and star["indicator"] == 0.0
    for name in ("sqrt", "log_shift", "sqrt_shift", "ratio", "linear"):
        assert 0.0 < star[name] < 10.0, name
    for name in ("linear", "sqrt"):
        expected = crossover_eps_closed_form(name, data["C"], n=data["n"], seed=theorem4_figs.SEED)
        assert star[name] == pytest.approx(expected, rel=ROOT_FIND_RTOL), name
    # figures/README.md, Figure 3: three crossovers lie beyond eps = 1, outside the unit square of
    # section 8.3, so for those penalties the sparse solution loses at every admissible eps
    assert {name for name, value in star.items() if value > 1.0} == {"sqrt", "sqrt_shift", "linear"}


def test_fig4_crossover_shrinks_monotonically_as_the_gradient_at_zero_grows(fresh_data):
    """Figure 4: for log(u + c) and u/(u + c) eps* decreases strictly as h'(0+) = 1/c grows."""
    data = fresh_data["fig04_crossover_vs_gradient"]
    for name in ("log_shift", "ratio"):
        assert np.all(np.diff(data[name]["crossover_eps"]) > 0)  # c increasing along the grid


def test_fig4_crossover_rates_in_c(fresh_data):
    """Derived from Eq. (23)-(24) with E = eps^2, m_k = row energies at eps = 1, u = code energy:
    log(u + c): m1 m2 E^2 + c (m1 + m2) E = c u, so E ~ sqrt(c u / (m1 m2)) and eps* ~ c^(1/4);
    u/(u + c): both sides are functions of E / c as c -> 0, so eps* ~ c^(1/2);
    sqrt(u + c) - sqrt(c) -> sqrt(u): eps* tends to sqrt's crossover, it does NOT vanish.
    Fitted on c <= 1e-5 (the asymptotic regime)."""
    data = fresh_data["fig04_crossover_vs_gradient"]
    c = np.asarray(data["c"])
    small = c <= 1e-5
    assert abs(_slope(c, data["log_shift"]["crossover_eps"], small) - 0.25) < FIGURE_RATE_SLOPE_ATOL
    assert abs(_slope(c, data["ratio"]["crossover_eps"], small) - 0.5) < FIGURE_RATE_SLOPE_ATOL
    limit = data["sqrt_shift"]["crossover_eps"][0]
    # |sqrt(u + c) - sqrt(c) - sqrt(u)| <= sqrt(c) moves both costs by at most sqrt(c); their O(1)
    # slope in eps at eps* turns that into a relative shift of eps* of order sqrt(c) (10x margin)
    assert limit == pytest.approx(data["sqrt_crossover"], rel=np.sqrt(c[0]) * 10)


def test_fig7_optimal_loss_slope_is_d_minus_r_and_active_columns_are_r(fresh_data):
    """Lemma 2 in pictures: below the smallest data eigenvalue the optimal loss falls with slope d - r
    in log gamma and exactly r columns of W are active; |dL*/dgamma| grows like (d - r) / gamma."""
    data = fresh_data["fig07_lemma2_infinite_gradient"]
    assert abs(data["slope_small_gamma"] - (data["d"] - data["r"])) < FIGURE_RATE_SLOPE_ATOL
    gammas = np.exp(np.asarray(data["log_gammas"]))
    small = gammas < 1e-3
    assert np.all(np.asarray(data["active_columns"])[small] == data["r"])
    assert abs(_slope(gammas, np.abs(data["dloss_dgamma"]), small) + 1.0) < FIGURE_RATE_SLOPE_ATOL


def test_fig8_gamma_star_is_the_minimum_of_every_curve(fresh_data):
    """Lemma 3, Eq. (16): the marked gamma* is at least as low as every sampled gamma of its curve."""
    for row in fresh_data["fig08_lemma3_gamma_star"]["decoders"]:
        # a sampled gamma equal to gamma* ties up to the round-off of Eq. (3)
        assert row["loss_at_gamma_star"] <= min(row["losses"]) + ROUNDOFF_RTOL * abs(row["loss_at_gamma_star"])


def test_fig1_bounded_slopes_flatten_and_unbounded_ones_keep_growing(fresh_data):
    """Figure 1 (b): at u = 1e-8 a bounded penalty's h'(u) is its h'(0+) up to u h''/h' ~ u/c <= 1e-5
    (c >= 1e-3); an unbounded one is still growing: h'(1e-8) / h'(1e-6) = 100 for log, 10 for sqrt."""
    data = fresh_data["fig01_penalty_gallery"]
    u = np.asarray(data["u_log"])
    assert u[0] == 1e-8
    index_1e6 = int(np.argmin(np.abs(np.log(u / 1e-6))))
    assert u[index_1e6] == pytest.approx(1e-6, rel=1e-12)
    for curve in data["curves"]:
        slope = np.asarray(curve["derivative"], dtype=float)
        if curve["name"] == "indicator":
            assert np.all(slope == 0.0)  # flat off zero; its "slope" is the jump at 0
        elif curve["bounded_gradient"]:
            assert slope[0] == pytest.approx(float(curve["grad_at_zero"]), rel=1e-5), curve["name"]
        else:
            expected = {"log": 100.0, "sqrt": 10.0}[curve["name"]]
            assert slope[0] / slope[index_1e6] == pytest.approx(expected, rel=1e-12), curve["name"]
