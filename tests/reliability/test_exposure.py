"""Exposure: the default LocalCluster listens on 127.0.0.1 only; no user text is evaluated or unpickled."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import h5py
import pytest

import qrate
from qrate.sweep.scheduler import open_client, parse_scheduler
from tests.reliability.conftest import cli
from tests.sweep._helpers import swap_params

LOOPBACK = re.compile(r"^tcp://127\.0\.0\.1:\d+$")


@pytest.mark.slow
def test_default_local_cluster_listens_on_loopback_only() -> None:
    spec = parse_scheduler("local", 1)  # what `qrate run` uses when no --scheduler is given (here 1 worker)
    with open_client(spec) as client:
        info = client.scheduler_info()
        assert LOOPBACK.match(info["address"]), info["address"]
        assert info["workers"] and all(LOOPBACK.match(a) for a in info["workers"]), list(info["workers"])
        assert all(LOOPBACK.match(w["nanny"]) for w in info["workers"].values() if w.get("nanny"))

        def bound_hosts(dask_scheduler) -> list[str]:  # type: ignore[no-untyped-def]
            hosts = [listener.listen_address for listener in dask_scheduler.listeners]
            server = getattr(dask_scheduler, "http_server", None)
            for sock in getattr(server, "_sockets", {}).values():
                hosts.append(str(sock.getsockname()[0]))
            return hosts

        hosts = client.run_on_scheduler(bound_hosts)
        assert len(hosts) >= 1
        for h in hosts:  # the RPC listener and the (dashboard-less) HTTP server
            assert h.startswith("tcp://127.0.0.1:") or h == "127.0.0.1", hosts


DANGEROUS = {
    "eval(": re.compile(r"(?<![\w.])eval\("),
    "exec(": re.compile(r"(?<![\w.])exec\("),
    "pickle.load": re.compile(r"\b(c?pickle|dill|cloudpickle|marshal|shelve)\.(loads?|open)\("),
    "yaml.load without SafeLoader": re.compile(r"\byaml\.(load|load_all)\((?![^)]*SafeLoader)"),
    "np.load(allow_pickle=True)": re.compile(r"allow_pickle\s*=\s*True"),
    "__import__(": re.compile(r"__import__\("),
    "shell=True": re.compile(r"shell\s*=\s*True"),
}


def scan(text: str) -> list[str]:
    """Names of the dangerous constructs in Python source ``text`` (comments ignored)."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return [name for name, pattern in DANGEROUS.items() if pattern.search(code)]


def test_scanner_finds_what_it_looks_for() -> None:
    bad = ["x = eval(s)", "exec(code)", "pickle.loads(b)", "yaml.load(f)", "np.load(p, allow_pickle=True)",
           "__import__('os')", "subprocess.run(c, shell=True)"]
    assert [scan(b) for b in bad] == [[n] for n in DANGEROUS]
    assert scan("yaml.load(f, Loader=yaml.SafeLoader)") == [] and scan("model.evaluate(x)  # eval(") == []
    assert scan("literal_eval(x)") == [] and scan("ds.exec_time") == []


def test_qrate_never_evaluates_or_unpickles_text() -> None:
    root = Path(qrate.__file__).parent
    found = {str(p.relative_to(root)): hits for p in sorted(root.rglob("*.py")) if (hits := scan(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_hdf5_strings_are_read_as_data(tmp_path: Path) -> None:
    """Code-like text in a results file is printed, never run; a pickle in an attribute is just bad JSON."""
    out = tmp_path / "r.h5"
    marker = tmp_path / "PWNED"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    rc, _, err = cli(["run", "khan-broadcast-uav", "--set", "sweep.ground_distance_km=[0]", "--set", "sampling.pulses_per_batch=1000",
                      "--set", "sampling.batches=2", "--scheduler", "sync", "--quiet", "--out", str(out)])
    assert rc == 0, err
    with h5py.File(out, "r+") as f:
        f.attrs["scenario_name"] = payload
        f.attrs["protocol"] = "broadcast"
    rc, table, err = cli(["show", str(out)])
    assert rc == 0, err
    assert payload in table and not marker.exists()
    params = swap_params(out, 0, json.dumps({"elevation_deg": payload}))
    rc, _, err = cli(["show", str(out), "--json"])  # text where a number belongs: a damaged file, not code
    assert rc == 2 and "damaged" in err and err.count("\n") == 1 and not marker.exists()
    swap_params(out, 0, params)
    with h5py.File(out, "r+") as f:
        f.attrs["versions"] = pickle.dumps({"x": 1}, protocol=0).decode("latin-1")
    rc, _, err = cli(["show", str(out)])
    assert rc == 2 and "damaged" in err and not marker.exists()
