"""Candidate lightpaths: the K shortest simple paths (by km, Yen's algorithm via networkx)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice, pairwise

import networkx as nx

from qrate.errors import InputError


@dataclass(frozen=True, slots=True)
class Path:
    """One simple path: its nodes, the edge ids it uses (``eid``) and its length in km."""

    nodes: tuple[int, ...]
    edge_ids: tuple[int, ...]
    link_lengths_km: tuple[float, ...]

    @property
    def length_km(self) -> float:
        return float(sum(self.link_lengths_km))


def k_shortest_paths(graph: nx.Graph, src: int, dst: int, k: int) -> tuple[Path, ...]:
    """The ``k`` shortest simple ``src``-``dst`` paths by ``length_km`` (fewer if the graph has fewer)."""
    if k < 1:
        raise InputError("k_paths", f"expected at least 1 candidate path, got {k}")
    if src == dst or src not in graph or dst not in graph:
        raise InputError("apps", f"bad endpoints {src}-{dst}")
    out = []
    for nodes in islice(nx.shortest_simple_paths(graph, src, dst, weight="length_km"), k):
        data = [graph.edges[a, b] for a, b in pairwise(nodes)]
        out.append(Path(tuple(nodes), tuple(d["eid"] for d in data), tuple(d["length_km"] for d in data)))
    return tuple(out)


def min_hop_length_km(graph: nx.Graph, src: int, dst: int) -> float:
    """Length (km) of the shortest (by km) among the fewest-hop paths."""
    lengths = [
        sum(graph.edges[a, b]["length_km"] for a, b in pairwise(nodes)) for nodes in nx.all_shortest_paths(graph, src, dst)
    ]
    return float(min(lengths))
