"""The model version: one integer naming the physics and sampling model behind every number.

It enters every sweep point's content key (so it seeds the point's random streams) and is stored
in every results file. Resume and combine refuse files of another model version: a fix that
changes what a point's batches mean must bump it, so rows of two models are never pooled.
"""

from __future__ import annotations

MODEL_VERSION = 4
"""Bump when a change alters the distribution of any stored counter (physics, protocol, sampler).

History: 1, the first pipeline; 2, a noise click depolarises the user's photon (X, Y, Z each q/4;
was independent X and Z flips with q/2 each, which overstated Y-basis errors); 3, a protocol's
parameters are its own ``[protocol.<name>]`` sub-table, defaults filled in, in every point's key
(new random streams); in the same round, a GHZ source's infidelity is white noise on its whole state
(was per photon on its users' photons) and ``sky = "auto"`` has twilight (was a moonlit night from
-12 to 0 deg), which change the realistic presets' numbers; 4, one generator per batch (the point's
Philox stream at the batch's counter, ``qrate.seeding.BatchStreams``; was a SeedSequence per batch
with separate channel and stim streams), the counters of exact-table protocols one multinomial over
(round, outcome class), and a diagnostic transmittance sample of 128 draws per batch (was 1024):
same distributions, new random streams.
"""
