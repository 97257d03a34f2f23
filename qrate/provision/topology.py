"""The USNET optical backbone (24 nodes, 43 undirected links, lengths in km) as a networkx graph."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import networkx as nx


def load_topology_json(name: str = "usnet") -> dict[str, Any]:
    """Return the raw JSON of a topology shipped in ``qrate/data`` (``nodes``, ``edges``, ``source``...)."""
    text = (files("qrate") / "data" / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def graph_from_json(data: dict[str, Any]) -> nx.Graph:
    """Build an undirected graph; every edge gets ``length_km`` and ``eid`` (its index in ``edges``)."""
    graph = nx.Graph(name=data.get("name", ""))
    graph.add_nodes_from(int(n["id"]) for n in data["nodes"])
    for eid, e in enumerate(data["edges"]):
        graph.add_edge(int(e["u"]), int(e["v"]), length_km=float(e["length_km"]), eid=eid)
    return graph


@cache
def _usnet() -> nx.Graph:
    return nx.freeze(graph_from_json(load_topology_json("usnet")))


def usnet() -> nx.Graph:
    """The USNET graph (frozen, cached): nodes 1..24, edge attributes ``length_km`` and ``eid``."""
    return _usnet()


def edge_lengths_km(graph: nx.Graph) -> list[float]:
    """Link lengths (km) indexed by the edge id ``eid``."""
    out = [0.0] * graph.number_of_edges()
    for _, _, d in graph.edges(data=True):
        out[d["eid"]] = d["length_km"]
    return out
