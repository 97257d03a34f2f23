"""qrate: Monte Carlo rate engine for quantum anonymous networks over space/air/ground links.

The package mirrors the data flow: scenario -> geometry -> channel kernels -> protocol circuits
-> statistics -> sweep -> store -> plot. Public names are re-exported here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qrate")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

from qrate.errors import BelowHorizonError, InputError, QrateError, ResultsFileError

__all__ = ["BelowHorizonError", "InputError", "QrateError", "ResultsFileError", "__version__"]
