from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from qrate.provision.topology import usnet


@pytest.fixture(scope="session")
def graph() -> nx.Graph:
    return usnet()


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(20240606))
