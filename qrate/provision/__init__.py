"""Two-stage stochastic QKD service provisioning on USNET (Xu et al., Quantum-Secured SAGIN, Fig. 4).

First stage: fiber QKD services reserved per application on one candidate path (Cao-style wavelength
constraints); second stage: satellite/UAV services bought per scenario for the shortfall. Solved as one
path-based MILP with ``scipy.optimize.milp`` (HiGHS); see "QKD service provisioning" in qrate/MODELS.md for
the model and switches.
"""

from __future__ import annotations

from qrate.provision.baselines import random_first_stage, solve_evf, wait_and_see
from qrate.provision.costs import CostParams
from qrate.provision.evaluate import CostBreakdown, FirstStage, evaluate, uniform_first_stage, wavelength_violations
from qrate.provision.instance import Application, Scenarios, exact_scenarios, sampled_scenarios
from qrate.provision.model import ModelOptions, Solution, solve_sp
from qrate.provision.problem import Problem, Rates, build_problem
from qrate.provision.study import ProvisionConfig, run_provision
from qrate.provision.topology import usnet

__all__ = [
    "Application",
    "CostBreakdown",
    "CostParams",
    "FirstStage",
    "ModelOptions",
    "Problem",
    "ProvisionConfig",
    "Rates",
    "Scenarios",
    "Solution",
    "build_problem",
    "evaluate",
    "exact_scenarios",
    "random_first_stage",
    "run_provision",
    "sampled_scenarios",
    "solve_evf",
    "solve_sp",
    "uniform_first_stage",
    "usnet",
    "wait_and_see",
    "wavelength_violations",
]
