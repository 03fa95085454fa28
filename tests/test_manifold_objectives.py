"""experiments/manifold/objectives.py: torch penalties equal theory/penalties.py; L_{g,h} is Eq. (22)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from experiments.manifold import objectives  # noqa: E402
from infgrad.tolerances import ROUNDOFF_RTOL  # noqa: E402
from theory.objective import objective_eq22  # noqa: E402

U = np.concatenate([np.logspace(-12, 3, 40), [0.3, 1.0, 7.5]])


@pytest.mark.parametrize("name", objectives.PENALTY_NAMES)
@pytest.mark.parametrize("c", [1e-4, 1e-2, 1.0])
def test_torch_penalty_equals_theory_in_float64(name, c):
    """Each torch h of Eq. (22) is theory.penalties' h: the same float64 formula (round-off)."""
    torch_h = objectives.torch_penalty(name, c)
    theory_h = objectives.theory_penalty(name, c)
    got = torch_h(torch.tensor(U, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, theory_h(U), rtol=ROUNDOFF_RTOL, atol=0)


def test_a_wrong_penalty_is_caught():
    """Companion: sqrt(u + c) - sqrt(c) written with the cancellation loses all digits at u << c,
    and log(u + c) with the shift dropped differs outright: the comparison above rejects both."""
    u = torch.tensor(U, dtype=torch.float64)
    naive = (torch.sqrt(u + 1.0) - 1.0).numpy()
    exact = objectives.theory_penalty("sqrt_shift", 1.0)(U)
    assert not np.allclose(naive, exact, rtol=ROUNDOFF_RTOL, atol=0)
    assert not np.allclose(torch.log(u).numpy(), objectives.theory_penalty("log_shift", 1e-2)(U),
                           rtol=ROUNDOFF_RTOL)


def test_log_penalty_at_zero_is_minus_inf_like_theory():
    assert objectives.torch_penalty("log")(torch.tensor([0.0], dtype=torch.float64)).item() == -np.inf


def test_lgh_terms_equal_eq22_with_g_a_weighted_identity():
    """The batch objective equals theory.objective.objective_eq22 with g(u) = w u on the same batch
    ((kappa, n) layout there, (n, kappa) here)."""
    rng = np.random.default_rng(0)
    x, recon, z = rng.standard_normal((16, 5)), rng.standard_normal((16, 5)), rng.standard_normal((16, 3))
    weight = 250.0
    h = objectives.theory_penalty("ratio", 1e-2)
    expected = objective_eq22(x.T, z.T, recon.T, lambda u: weight * u, h)
    terms = objectives.lgh_terms(torch.tensor(x), torch.tensor(recon), torch.tensor(z),
                                 objectives.torch_penalty("ratio", 1e-2), weight)
    assert terms["loss"].shape == ()
    np.testing.assert_allclose(terms["loss"].item(), expected, rtol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(terms["energies"].numpy(), np.mean(z**2, axis=0), rtol=ROUNDOFF_RTOL)


def test_unknown_penalty_and_bad_shift_are_value_errors():
    with pytest.raises(ValueError, match="unknown penalty"):
        objectives.torch_penalty("cube")
    with pytest.raises(ValueError, match="shift"):
        objectives.torch_penalty("ratio", 0.0)
