"""The job manager of the dashboard's background callbacks (the scenario lab's runs).

Dash runs a callback declared ``background=True`` outside the request: the request starts
a job and returns at once, the browser polls for its progress and result, and a cancel
input kills it.  The job manager chosen here is Dash's :class:`dash.DiskcacheManager`:

* **no broker to run** — jobs are processes forked by the dashboard (the ``multiprocess``
  package) and their progress and results pass through a ``diskcache`` folder on local
  disk (``var/dash-jobs`` of the deployment, or ``$HYDRORISK_JOB_CACHE``);
* **it works on one machine**, which is how the dashboard is deployed (``hydrorisk serve``
  on waitress).  Several dashboard processes on the same machine share the folder.

Celery (``dash.CeleryManager``) would spread jobs over machines but needs a broker
(Redis or RabbitMQ) and a worker service to install and watch; a scenario run of 1 000
members takes seconds on 2 cores, so that is not worth it here.  Large ensembles go to a
Dask cluster when the config names one (:mod:`hydro.services.scenario_runs`), whichever
manager starts them.

A run is cancelled through the store (:func:`hydro.services.scenario_runs.request_cancel`),
not by killing the job: the job stops between member chunks and records the run as
cancelled with nothing half-written, and a colleague's page sees it too.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from hydro.config import Config

ENV = "HYDRORISK_JOB_CACHE"
DEFAULT_DIR = "var/dash-jobs"


def cache_dir(config: Config) -> Path:
    """The job folder: ``$HYDRORISK_JOB_CACHE``, else ``var/dash-jobs`` of the deployment."""
    given = os.environ.get(ENV, "").strip()
    path = Path(given) if given else config.resolve(DEFAULT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=8)
def _cache(folder: str):
    import diskcache  # type: ignore[import-untyped]

    return diskcache.Cache(folder)


def manager(config: Config):
    """A :class:`dash.DiskcacheManager` over the deployment's job folder."""
    from dash import DiskcacheManager

    return DiskcacheManager(_cache(str(cache_dir(config))))

