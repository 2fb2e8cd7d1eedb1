"""hydrorisk science, ingest and store.

Pure science modules (``units``, ``network``, ``rating``, ``warning``, ``routing``) work on
numpy/pandas objects and never touch files, databases or the clock.  I/O lives in
``readers``, ``store``, ``ingest`` and ``worker``.  Nothing in this package imports Dash.
"""

__version__ = "0.1.0"
