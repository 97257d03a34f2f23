"""USNET data and the cost model against the numbers quoted in PROVISIONING.md §2 and §3.4."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from qrate.errors import InputError
from qrate.provision.costs import CostParams
from qrate.provision.paths import k_shortest_paths
from qrate.provision.topology import edge_lengths_km, load_topology_json


def test_usnet_matches_shared_statistics(graph: nx.Graph) -> None:
    assert graph.number_of_nodes() == 24 and graph.number_of_edges() == 43
    assert sum(edge_lengths_km(graph)) == pytest.approx(42600.0)
    assert nx.has_bridges(graph) is False
    lengths = dict(nx.all_pairs_dijkstra_path_length(graph, weight="length_km"))
    pairs = [lengths[s][d] for s in graph for d in graph if s < d]
    assert len(pairs) == 276
    assert max(pairs) == pytest.approx(6650.0)
    assert sum(pairs) / len(pairs) == pytest.approx(2971.9, abs=0.1)
    assert graph.edges[3, 4]["length_km"] == 250.0 and graph.edges[11, 19]["length_km"] == 2600.0


def test_packaged_copy_equals_shared_file() -> None:
    import json
    from pathlib import Path

    shared = Path("/work/shared/data/usnet.json")
    if not shared.exists():
        pytest.skip("shared reference data not present")
    assert load_topology_json("usnet")["edges"] == json.loads(shared.read_text())["edges"]


def test_default_costs_follow_the_paper_arithmetic() -> None:
    c = CostParams()
    assert c.reservation_cost([250.0]) == 1500 + 2250 + 2 * (1200 + 150 + 300) + 250  # 7300
    assert c.satellite_cost() == 6000 + 9000 + 3000 + 500 + 20000  # 38500
    assert c.uav_cost(999.5) == 18500 + 20 * 1000
    one_end = CostParams(equipment_ends=1)
    assert one_end.reservation_cost([0.0]) == 1500 + 2250 + 1200 + 150 + 300


def test_trusted_relay_cost_formula() -> None:
    c = CostParams(relay_mode="trusted")
    links = [800.0, 1000.0, 250.0]
    spans = sum(math.ceil(x / 80) for x in links)
    expected = spans * (1500 + 2250 + 600) + (spans + 1) * (1200 + 150) + sum(links)
    assert c.reservation_cost(links) == pytest.approx(expected)


def test_cost_range_over_pairs(graph: nx.Graph) -> None:
    c = CostParams()
    costs = [c.reservation_cost(k_shortest_paths(graph, s, d, 1)[0].link_lengths_km) for s in graph for d in graph if s < d]
    assert min(costs) == 7300 and max(costs) == 13700


@pytest.mark.parametrize("bad", [{"relay_mode": "x"}, {"equipment_ends": 3}, {"tx": -1.0}, {"uav_distance": "great_circle"}])
def test_bad_switches_raise_input_error(bad: dict) -> None:
    with pytest.raises(InputError):
        CostParams(**bad)


def test_k_shortest_paths_are_sorted_and_simple(graph: nx.Graph) -> None:
    paths = k_shortest_paths(graph, 1, 24, 5)
    lengths = [p.length_km for p in paths]
    assert lengths == sorted(lengths) and len(paths) == 5
    assert lengths[0] == pytest.approx(nx.dijkstra_path_length(graph, 1, 24, weight="length_km"))
    assert all(len(set(p.nodes)) == len(p.nodes) for p in paths)
