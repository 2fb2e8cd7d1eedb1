"""What the CLI and the dashboard both call: opening a deployment (:mod:`.context`),
ingest and the QC re-check (:mod:`.ingest`), reading stored series (:mod:`.observations`),
job status (:mod:`.jobs`), the commission's reports (:mod:`.reports`), exports
(:mod:`.exports`), water-quality tables (:mod:`.quality`), scenario runs with Dask
(:mod:`.scenarios`) and calibration (:mod:`.calibration`); later forecasts and alert
evaluation.

May import: the science modules, hydro.config, hydro.readers, hydro.store and
hydro.synthetic.  Never hydro.cli, hydro.worker or the dashboard (tests/architecture).
"""
