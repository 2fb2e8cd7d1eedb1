"""Status of the worker's scheduled ingest jobs, for ``hydrorisk jobs`` and the dashboard."""

from __future__ import annotations

import pandas as pd

from hydro.services.context import Store
from hydro.store import api


def job_status(store: Store) -> pd.DataFrame:
    """One row per job: last run, outcome, next run, consecutive failures, last error."""
    return api.job_status(store)
