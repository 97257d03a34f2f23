"""Shared test data: the Micius TLE of 2016-12-18 and the Chinese ground stations."""

from __future__ import annotations

from qrate.orbit import TLE, Station

# NORAD 41731 (QUESS / Micius), epoch 2016 day 353.90152003 = 2016-12-18T21:38:11.33Z
MICIUS_L1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
MICIUS_L2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"

XINGLONG = Station("Xinglong", 40.39587, 117.57746, 890.0)
# Yin et al., Nature 582, 501 (2020): 37 22'44.43" N 97 43'37.01" E 3153 m; 43 28'31.66" N 87 10'36.07" E 2028 m
DELINGHA = Station("Delingha", 37.0 + 22 / 60 + 44.43 / 3600, 97.0 + 43 / 60 + 37.01 / 3600, 3153.0)
NANSHAN = Station("Nanshan", 43.0 + 28 / 60 + 31.66 / 3600, 87.0 + 10 / 60 + 36.07 / 3600, 2028.0)


def micius() -> TLE:
    return TLE(MICIUS_L1, MICIUS_L2, name="Micius")
