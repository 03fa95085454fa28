"""figures/: every figure of the tutorial builds, its committed data file is current (equal on one
machine, within each number's round-off times its conditioning on another), and the output is
byte-stable. The numbers behind each figure are asserted in tests/test_slices.py, test_theta_path.py,
test_outlier_curve.py (and the theory tests of theorem4, lemma2, lemma3, penalties)."""
import argparse
import json
import math
import re

import numpy as np
import pytest

from figures import build, theorem4_figs, theta_figs
from figures._common import read_data, render, to_jsonable
from infgrad.tolerances import (
    FIGURE_ADAM_ENVELOPE,
    FIGURE_ADAM_RATTLE,
    FIGURE_RATE_SLOPE_ATOL,
    FIGURE_ROUNDOFF_RTOL,
    FIGURE_SQUARED_ROUNDOFF_ATOL,
    OPTIMIZER_VALUE_RTOL,
    ROOT_FIND_RTOL,
    ROUNDOFF_RTOL,
)
from theory import theorem4
from figures.slices import MINIMA_XATOL
from theory.theorem4 import crossover_eps_closed_form

DESCENT = "fig10_gradient_descent_theta"


@pytest.fixture(scope="module")
def fresh_data():
    """Every figure's data recomputed at full resolution, exactly as `infgrad figures` writes it."""
    out = {}
    for name in build.NAMES:
        compute, _ = build.figure_functions(name)
        out[name] = to_jsonable(compute(quick=False))
    return out


@pytest.fixture(scope="module")
def descent_nudged():
    """Figure 10 rebuilt from its data scaled by 1 + 2^-52 and by 1 - 2^-53: a change in the last bit,
    the size of the differences another machine's arithmetic makes."""
    original = theorem4.sample_data_eq21
    out = []
    for factor in (1 + 2.0**-52, 1 - 2.0**-53):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(theorem4, "sample_data_eq21", lambda *a, f=factor, **k: original(*a, **k) * f)
            out.append(to_jsonable(theta_figs.descent_compute(quick=False)))
    return out


def _is_numeric_list(values) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _closed_form(path: str, values: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) of a closed-form array (infgrad/tolerances.py, FIGURE_ROUNDOFF_RTOL): relative, and
    for an array that crosses zero also absolute at the same rate of its largest |value|."""
    crosses = values.size > 0 and values.min() < 0 < values.max()
    return FIGURE_ROUNDOFF_RTOL, FIGURE_ROUNDOFF_RTOL * float(np.abs(values).max()) if crosses else 0.0


def _slice_search_atol(data: dict) -> dict:
    """{(slice, gamma index): atol of its minima' s} for Figure 6 (infgrad/tolerances.py): two machines'
    minimizers each lie within MINIMA_XATOL plus the flat half-width w of the slice, where the
    curvature L'' (second difference of the sampled slice at the minimum) gives L'' w^2 / 2 = 2 noise,
    noise = FIGURE_ROUNDOFF_RTOL * max |L|."""
    atol = {}
    for name in ("twin", "random"):
        s = np.asarray(data[name]["s"])
        step = s[1] - s[0]
        for g, row in enumerate(data[name]["per_gamma"]):
            loss = np.asarray(row["loss"])
            noise = FIGURE_ROUNDOFF_RTOL * np.abs(loss).max()
            widths = []
            for s_min in row["minima_s"]:
                j = int(np.clip(np.argmin(np.abs(s - s_min)), 1, s.size - 2))
                curvature = (loss[j - 1] - 2 * loss[j] + loss[j + 1]) / step**2
                assert curvature > 0, (name, g)  # a sampled minimum is convex on the grid
                widths.append(math.sqrt(4 * noise / curvature))
            atol[(name, g)] = 2 * (MINIMA_XATOL + max(widths))
    return atol


def _tolerance(name: str, fresh: dict):
    """The (rtol, atol) rule for each data key of figure `name` (sources in infgrad/tolerances.py)."""
    search = _slice_search_atol(fresh) if name == "fig06_vae_slices" else {}

    def rule(path: str, values: np.ndarray) -> tuple[float, float]:
        key = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
        if key == "crossover_eps":
            return ROOT_FIND_RTOL, 0.0
        if key == "scan_losses":
            return OPTIMIZER_VALUE_RTOL, 0.0
        if key in ("pca2_inlier_error", "pca2_outlier_error"):
            return FIGURE_ROUNDOFF_RTOL, FIGURE_SQUARED_ROUNDOFF_ATOL
        found = re.search(r"\.(twin|random)\.per_gamma\[(\d+)\]\.(minima_s|global_s)$", path)
        if found:
            return 0.0, search[(found[1], int(found[2]))]
        return _closed_form(path, values)

    return rule


def _assert_same(fresh, committed, rule, where="data"):
    """Recursive comparison: same keys, lengths, strings and booleans; numbers within rule(path, values)."""
    if isinstance(fresh, dict):
        assert isinstance(committed, dict) and sorted(fresh) == sorted(committed), where
        for key in fresh:
            _assert_same(fresh[key], committed[key], rule, f"{where}.{key}")
    elif isinstance(fresh, list):
        assert isinstance(committed, list) and len(fresh) == len(committed), where
        if _is_numeric_list(fresh) and _is_numeric_list(committed):
            values = np.asarray(fresh, float)
            rtol, atol = rule(where, values)
            np.testing.assert_allclose(np.asarray(committed, float), values, rtol=rtol, atol=atol,
                                       err_msg=where)
        else:
            for k, (a, b) in enumerate(zip(fresh, committed)):
                _assert_same(a, b, rule, f"{where}[{k}]")
    elif _is_numeric_list([fresh]) and isinstance(committed, (int, float)):
        rtol, atol = rule(where, np.array([fresh], float))
        assert math.isclose(fresh, committed, rel_tol=rtol, abs_tol=atol), (where, fresh, committed)
    else:
        assert fresh == committed, where


def _series(value) -> list[np.ndarray]:
    """A recorded quantity as 1-D series: a scalar, a trajectory, or each column (latent row) of one."""
    array = np.asarray(value, float)
    return [array.reshape(1)] if array.ndim == 0 else ([array] if array.ndim == 1 else list(array.T))


def _descent_series(fresh: dict, committed: dict, nudged: list[dict]):
    """Figure 10's recorded series as (where, fresh, committed, [nudged ...]), after checking that both
    files hold the same runs, names and steps."""
    assert sorted(fresh["runs"]) == sorted(committed["runs"])
    for init, runs in fresh["runs"].items():
        assert len(runs) == len(committed["runs"][init])
        for k, run in enumerate(runs):
            other = committed["runs"][init][k]
            assert sorted(run) == sorted(other), (init, k)
            assert run["name"] == other["name"] and run["step"] == other["step"], (init, k)
            for key in ("theta", "row_rms", "active_rows", "theta_final", "final_mse"):
                columns = zip(_series(run[key]), _series(other[key]),
                              *[_series(n["runs"][init][k][key]) for n in nudged])
                for column, (f, c, *moved) in enumerate(columns):
                    yield f"{init}.{run['name']}.{key}[{column}]", f, c, moved


def _rattles(where: str, f: np.ndarray, moved: list[np.ndarray]) -> bool:
    """A series that the nudged data move by more than FIGURE_ADAM_RATTLE of its values: of each value
    for the row RMS (drawn on a log axis), of the series' largest |value| for the rest (linear axes)."""
    scale = np.abs(f) if ".row_rms[" in where else np.abs(f).max()
    return bool(np.any(np.max([np.abs(m - f) for m in moved], axis=0) > FIGURE_ADAM_RATTLE * scale))


def _assert_descent_same(fresh: dict, committed: dict, nudged: list[dict]) -> None:
    """Figure 10 (infgrad/tolerances.py, projected Adam): every recorded series within
    FIGURE_ADAM_ENVELOPE times its change under the nudged data, plus round-off; a rattling series
    (`_rattles`) inside the band [min / FIGURE_ADAM_ENVELOPE, max * FIGURE_ADAM_ENVELOPE] of the values
    seen (RMS values and row counts, all >= 0)."""
    _assert_same({k: v for k, v in fresh.items() if k != "runs"},
                 {k: v for k, v in committed.items() if k != "runs"}, _closed_form)
    for where, f, c, moved in _descent_series(fresh, committed, nudged):
        assert c.shape == f.shape, where
        if _rattles(where, f, moved):
            seen = np.concatenate([f, *moved])
            assert seen.min() >= 0, where
            assert np.all((c >= seen.min() / FIGURE_ADAM_ENVELOPE) & (c <= seen.max() * FIGURE_ADAM_ENVELOPE)), where
        else:
            envelope = np.max([np.abs(m - f) for m in moved], axis=0)
            bound = FIGURE_ADAM_ENVELOPE * envelope + FIGURE_ROUNDOFF_RTOL * np.abs(f)
            assert np.all(np.abs(c - f) <= bound), (where, np.max(np.abs(c - f) - bound))


@pytest.mark.parametrize("name", build.NAMES)
def test_committed_data_is_current(fresh_data, name, request):
    """figures/img/<name>.json (what the committed PNG/SVG show) equals a fresh computation within the
    round-off of each number times its conditioning (byte-identical on the machine that built it):
    rerun `infgrad figures --out figures/img` after changing theory/ or figures/ and commit it."""
    committed = read_data(build.COMMITTED / f"{name}.json")
    if name == DESCENT:
        _assert_descent_same(fresh_data[name], committed, request.getfixturevalue("descent_nudged"))
    else:
        _assert_same(fresh_data[name], committed, _tolerance(name, fresh_data[name]), name)
    for ext in ("png", "svg"):
        assert (build.COMMITTED / f"{name}.{ext}").stat().st_size > 0


def test_figure10_rattle_is_the_switched_off_row_under_unbounded_gradients(fresh_data, descent_nudged):
    """The only Figure 10 series that a last-bit change of the data moves by more than
    FIGURE_ADAM_RATTLE belong to the switched-off second latent row started near the sparse solution
    under log and sqrt (its RMS and the active-row count): h'(u) -> inf as u -> 0 keeps Adam's step at
    full size there, the rattle the figure shows. Every other series is reproducible."""
    data = fresh_data[DESCENT]
    rattling = {where for where, f, _, moved in _descent_series(data, data, descent_nudged)
                if _rattles(where, f, moved)}
    allowed = {f"near_sparse.{h}.{key}" for h in ("log", "sqrt") for key in ("row_rms[1]", "active_rows[0]")}
    assert rattling and rattling <= allowed, rattling


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
    JSON holds exactly the quick computation (the same machine: no tolerance)."""
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    args = parser.parse_args(["--only", "outlier_manifold", "--quick", "--dpi", "30", "--out", str(tmp_path)])
    assert build.run(args) == 0
    stem = tmp_path / "fig09_outlier_manifold"
    assert all(stem.with_suffix(ext).exists() for ext in (".png", ".svg", ".json"))
    compute, _ = build.figure_functions("outlier_manifold")
    assert json.loads(stem.with_suffix(".json").read_text()) == to_jsonable(compute(quick=True))
    assert "1 figure(s)" in capsys.readouterr().out


def test_cli_default_output_is_a_folder_in_the_current_directory_and_help_says_so(tmp_path, monkeypatch, capsys):
    """Without --out, `infgrad figures` writes ./infgrad-figures in the current directory (never into
    the package's committed figures/img), and --help states that default and how to refresh the
    committed copies."""
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    text = parser.format_help()
    assert "default: ./infgrad-figures" in text and "--out figures/img" in text
    committed = {p.name: p.stat().st_mtime_ns for p in build.COMMITTED.iterdir()}
    monkeypatch.chdir(tmp_path)
    assert build.run(parser.parse_args(["--only", "outlier_manifold", "--quick", "--dpi", "30"])) == 0
    assert (tmp_path / "infgrad-figures" / "fig09_outlier_manifold.png").exists()
    assert {p.name: p.stat().st_mtime_ns for p in build.COMMITTED.iterdir()} == committed
    capsys.readouterr()


@pytest.mark.parametrize("argv, match", [(["--only", "nope"], "--only"), (["--dpi", "5"], "--dpi"),
                                         (["--quick", "--out", str(build.COMMITTED)], "--quick")])
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
