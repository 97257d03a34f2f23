"""Per-shot transmittance: kernels vs numpy references, Monte Carlo means vs closed forms/integrals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from qrate.channels import FreeSpaceLink, LinkBudget, link_budget, mean_transmittance, sample_transmittance, sample_transmittance_blocks
from qrate.errors import InputError
from qrate.geometry import midpoint_geometry

SEED = 20260101


def rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(SEED + offset))


def budget(model: str, d_km: float = 1000.0, **kw: object) -> LinkBudget:
    h = kw.pop("altitude_km", 450.0)
    args = {"divergence_rad": 5e-6, "pointing_rad": 5e-7, "aperture_radius_m": 3.0, "beam": "far_field", "model": model}
    args.update(kw)
    return link_budget(FreeSpaceLink(**args), midpoint_geometry(h, d_km))  # type: ignore[arg-type]


# (model-independent) configurations: LEO table I, small aperture, atmosphere, UAV with turbulence
CONFIGS = [
    {"d_km": 0.0},
    {"d_km": 2000.0},
    {"d_km": 1000.0, "aperture_radius_m": 1.0, "t_atm_zenith": 0.8},
    {"d_km": 500.0, "aperture_radius_m": 0.5, "pointing_rad": 3e-6},
    {"d_km": 200.0, "altitude_km": 30.0, "divergence_rad": 1e-6, "beam": "gaussian", "aperture_radius_m": 0.5, "cn2": 1e-14},
]


def exact_reference(b: LinkBudget, n: int, g: np.random.Generator) -> np.ndarray:
    """Slow numpy exact model, same draws as the kernel: r = sigma sqrt(2E), eta = T 1 - Q1 via ncx2."""
    r = b.sigma_m * np.sqrt(2.0 * g.standard_exponential(n))
    w, a = b.beam_radius_m, b.link.aperture_radius_m
    return b.t_atm * stats.ncx2.cdf((2 * a / w) ** 2, 2, (2 * r / w) ** 2)


def weibull_reference(b: LinkBudget, n: int, g: np.random.Generator) -> np.ndarray:
    """The netsquid-freespace form: x ~ Weibull(2/lambda), eta = T eta0 exp(-scaleL x)."""
    return b.t_atm * b.eta0 * np.exp(-b.weibull_scale_l * g.weibull(2.0 / b.weibull_shape, n))


@pytest.mark.parametrize("cfg", CONFIGS)
def test_exact_kernel_vs_numpy_reference(cfg: dict) -> None:
    b = budget("exact", **cfg)
    got = sample_transmittance(b, 20_000, rng())
    np.testing.assert_allclose(got, exact_reference(b, 20_000, rng()), rtol=0, atol=1e-10)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_weibull_kernel_vs_numpy_reference(cfg: dict) -> None:
    b = budget("weibull", **cfg)
    got = sample_transmittance(b, 20_000, rng())
    np.testing.assert_allclose(got, weibull_reference(b, 20_000, rng()), rtol=1e-12, atol=0)


def test_kernel_advances_the_generator_like_numpy() -> None:
    g1, g2 = rng(), rng()
    sample_transmittance(budget("exact"), 1000, g1)
    g2.standard_exponential(1000)
    assert g1.random() == g2.random()


@pytest.mark.statistical
@pytest.mark.parametrize("cfg", CONFIGS)
def test_exact_mean_vs_closed_form(cfg: dict) -> None:
    b = budget("exact", **cfg)
    a, w, s = b.link.aperture_radius_m, b.beam_radius_m, b.sigma_m
    expected = b.t_atm * (1 - math.exp(-2 * a * a / (w * w + 4 * s * s)))
    x = sample_transmittance(b, 400_000, rng(1))
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert 0 < se and abs(x.mean() - expected) < 5 * se
    assert mean_transmittance(b) == pytest.approx(expected, rel=1e-14)


def weibull_mean_in_eta_space(b: LinkBudget) -> float:
    """int eta P(eta) d eta with the power-form log-negative Weibull PDF of PHYSICS.md §3.3."""
    lam, r_, s2, eta0 = b.weibull_shape, b.weibull_scale_m, b.sigma_m**2, b.eta0

    # substitute eta = eta0 exp(-t), ln(eta0/eta) = t: eta P(eta) |d eta/dt| becomes
    # eta0 exp(-t) (R^2/(sigma^2 lambda)) t^(2/lambda-1) exp(-(R^2/(2 sigma^2)) t^(2/lambda)).
    # The integrable end-point singularity (lambda > 2) sits at t = 0, where QAGS on [0, 1] never
    # evaluates; the tail [1, inf) is smooth.
    def f(t: float) -> float:
        return eta0 * math.exp(-t) * r_**2 / (s2 * lam) * t ** (2 / lam - 1) * math.exp(-(r_**2) / (2 * s2) * t ** (2 / lam))

    opts = {"limit": 400, "epsabs": 1e-14, "epsrel": 1e-11}
    return b.t_atm * (integrate.quad(f, 0.0, 1.0, **opts)[0] + integrate.quad(f, 1.0, math.inf, **opts)[0])


@pytest.mark.statistical
@pytest.mark.parametrize("cfg", CONFIGS)
def test_weibull_mean_vs_quad(cfg: dict) -> None:
    b = budget("weibull", **cfg)
    expected = weibull_mean_in_eta_space(b)
    assert mean_transmittance(b) == pytest.approx(expected, rel=1e-8)
    x = sample_transmittance(b, 400_000, rng(2))
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert 0 < se and abs(x.mean() - expected) < 5 * se


@pytest.mark.statistical
def test_weibull_rayleigh_form_matches_weibull_form() -> None:
    """Two-sample KS: Rayleigh r from uniforms, eta = T eta0 exp(-(r/R)^lambda) vs the kernel."""
    b = budget("weibull", 1500.0, aperture_radius_m=1.5)
    u = rng(3).random(100_000)
    r = b.sigma_m * np.sqrt(-2.0 * np.log1p(-u))
    rayleigh_form = b.t_atm * b.eta0 * np.exp(-((r / b.weibull_scale_m) ** b.weibull_shape))
    kernel = sample_transmittance(b, 100_000, rng(4))
    assert stats.ks_2samp(rayleigh_form, kernel).pvalue > 1e-3
    # the same test sees a 3 % change in the jitter
    b_off = budget("weibull", 1500.0, aperture_radius_m=1.5, pointing_rad=5.15e-7)
    assert stats.ks_2samp(rayleigh_form, sample_transmittance(b_off, 100_000, rng(4))).pvalue < 1e-6


def test_weibull_close_to_exact_at_table_one() -> None:
    """The Vasylyev mean stays within 0.4 % of the exact one at Table I (LEO, a = 3 m): 0.26 % at
    D = 0, 0.36 % at D = 500 km (the maximum), 0.03 % at D = 2000 km; and it is the larger one."""
    for d in (0.0, 500.0, 1000.0, 2000.0):
        ex, wb = mean_transmittance(budget("exact", d)), mean_transmittance(budget("weibull", d))
        assert 0.0 < (wb - ex) / ex < 4e-3


def test_no_jitter_is_deterministic() -> None:
    for model in ("exact", "weibull"):
        b = budget(model, pointing_rad=0.0)
        x = sample_transmittance(b, 100, rng())
        np.testing.assert_allclose(x, b.eta0, rtol=1e-14)
        assert mean_transmittance(b) == pytest.approx(b.eta0, rel=1e-14)


@settings(deadline=None, max_examples=25)
@given(
    model=st.sampled_from(["exact", "weibull"]),
    d_km=st.floats(0.0, 4000.0),
    a=st.floats(0.05, 5.0),
    pointing=st.floats(0.0, 5e-6),
    t_zen=st.floats(0.0, 1.0),
)
def test_transmittance_bounded(model: str, d_km: float, a: float, pointing: float, t_zen: float) -> None:
    b = budget(model, d_km, aperture_radius_m=a, pointing_rad=pointing, t_atm_zenith=t_zen)
    x = sample_transmittance(b, 256, rng())
    assert x.dtype == np.float64 and x.shape == (256,)
    assert np.all(x >= 0.0) and np.all(x <= b.t_atm * b.eta0 * (1 + 1e-12))
    assert 0.0 <= mean_transmittance(b) <= b.t_atm * b.eta0 * (1 + 1e-12)


def test_blocks_share_draws() -> None:
    b = budget("exact")
    x = sample_transmittance_blocks(b, 10_005, 1000, rng())
    draws = sample_transmittance(b, 11, rng())
    assert x.shape == (10_005,)
    np.testing.assert_array_equal(x, np.repeat(draws, 1000)[:10_005])
    np.testing.assert_array_equal(sample_transmittance_blocks(b, 50, 1, rng()), sample_transmittance(b, 50, rng()))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"divergence_rad": 0.0}, "divergence_rad"),
        ({"divergence_rad": float("nan")}, "divergence_rad"),
        ({"pointing_rad": -1e-7}, "pointing_rad"),
        ({"aperture_radius_m": 0.0}, "aperture_radius_m"),
        ({"aperture_radius_m": "3"}, "aperture_radius_m"),
        ({"wavelength_m": -1.0}, "wavelength_m"),
        ({"beam": "far-field-ish"}, "beam"),
        ({"model": "yehia"}, "model"),
        ({"cn2": -1e-15}, "cn2"),
        ({"turbulence_path": "last_5km"}, "turbulence_path"),
        ({"t_atm_zenith": 1.1}, "t_atm_zenith"),
    ],
)
def test_link_validation(kwargs: dict, field: str) -> None:
    args = {"divergence_rad": 5e-6, "pointing_rad": 5e-7, "aperture_radius_m": 3.0}
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        FreeSpaceLink(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_aperture_radius_or_diameter() -> None:
    base = {"divergence_rad": 5e-6, "pointing_rad": 5e-7}
    assert FreeSpaceLink.from_aperture_diameter(3.0, **base).aperture_radius_m == 1.5
    assert FreeSpaceLink.from_aperture(aperture_diameter_m=2.0, **base).aperture_radius_m == 1.0
    assert FreeSpaceLink.from_aperture(aperture_radius_m=2.0, **base).aperture_radius_m == 2.0
    for kw in ({}, {"aperture_radius_m": 1.0, "aperture_diameter_m": 2.0}):
        with pytest.raises(InputError, match="radius or diameter"):
            FreeSpaceLink.from_aperture(**kw, **base)
    with pytest.raises(InputError) as info:
        FreeSpaceLink.from_aperture_diameter(-2.0, **base)
    assert info.value.field == "aperture_diameter_m"


def test_sampler_validation() -> None:
    b = budget("weibull")
    for n in (-1, 2.5, True):
        with pytest.raises(InputError):
            sample_transmittance(b, n, rng())  # type: ignore[arg-type]
    with pytest.raises(InputError):
        sample_transmittance(b, 10, np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        sample_transmittance_blocks(b, 10, 0, rng())
    link = FreeSpaceLink(5e-6, 0.0, 1.0, cn2=1e-15, turbulence_path="last_10km")
    with pytest.raises(InputError, match="10 km"):
        link_budget(link, midpoint_geometry(5.0, 0.0))


@pytest.mark.parametrize("scale_l", [1e-8, 1e-2, 1.0, 1e2, 7.5e4, 1e9])
def test_weibull_mean_integral_closed_forms(scale_l: float) -> None:
    """half_shape 1: E[exp(-s E)] = 1/(1+s); half_shape 1/2: 1 - s sqrt(pi)/2 erfcx(s/2)."""
    from scipy.special import erfcx

    from qrate.channels.freespace import weibull_mean_integral

    assert weibull_mean_integral(scale_l, 1.0) == pytest.approx(1 / (1 + scale_l), rel=1e-10)
    if scale_l <= 1e2:  # the erfcx form cancels badly beyond
        expected = 1 - scale_l * math.sqrt(math.pi) / 2 * erfcx(scale_l / 2)
        assert weibull_mean_integral(scale_l, 0.5) == pytest.approx(expected, rel=1e-9)
