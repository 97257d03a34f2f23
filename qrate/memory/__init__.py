"""Quantum memories and multiplexing: memory-assisted heralding (qrate/MODELS.md, "Quantum memories").

* :mod:`qrate.memory.waiting`: closed forms (waiting times, storage-time distribution, stored-qubit fidelity);
* :mod:`qrate.memory.expected`: a memory plan's expected delivered rate and mean storage noise (closed forms);
* :mod:`qrate.memory.renewal`: sampling the renewal process of one batch (Numba, cost ∝ link successes),
  single-mode or with parallel memory modes;
* :mod:`qrate.memory.plan`: a point's memory plan from the scenario (attempt period, links, trigger, noise);
* :mod:`qrate.memory.herald`: one batch with memories (deliveries, storage noise in exact classes, protocol).
"""
