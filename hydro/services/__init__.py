"""What the CLI and the dashboard both call: opening a deployment (:mod:`.context`),
ingest and the QC re-check (:mod:`.ingest`), reading stored series (:mod:`.observations`),
job status (:mod:`.jobs`), the commission's reports (:mod:`.reports`), exports
(:mod:`.exports`), water-quality tables (:mod:`.water_quality`), alert storage and
acknowledgement (:mod:`.alerts`), scenario runs with Dask (:mod:`.scenarios`), their
forcing (:mod:`.forcing`) and calibration (:mod:`.calibration`); later forecasts and
alert evaluation.

Names: ``qc`` is data quality control (flags on values); ``water_quality`` is pollution
classes of water samples (:mod:`hydro.quality`).

May import: the science modules, hydro.config, hydro.readers, hydro.store and
hydro.synthetic.  Never hydro.cli, hydro.worker or the dashboard (tests/architecture).
"""
