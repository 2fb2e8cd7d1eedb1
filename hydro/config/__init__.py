"""Load and validate the deployment configuration in ``config/``.

Every file is parsed with :mod:`tomllib` and validated with pydantic models that reject
unknown keys (``extra="forbid"``), so a misspelt key fails at start-up instead of silently
using a default.  Semantic checks that span objects (unknown node in a reach, a cycle in
the network, duplicate ids) follow.  Every failure is a :class:`~hydro.errors.ConfigError`
whose message names the file and the key, for example::

    config/basins.toml: reaches[id=ural-orsk-orenburg].downstream: unknown node 'RU:ORENBRG'

The objects of the network are the domain model of :mod:`hydro.network`; the file
schemas that hold them are :mod:`hydro.config.schema`; the water-quality tables are read
by :mod:`hydro.config.quality_tables`.  Every path of a deployment hangs off
:class:`Config` (``root``, ``quality_dir``, ``resolve``); the environment is read in one
place only, :func:`default_config_dir` (``$HYDRORISK_CONFIG``) and ``Config.store_url``
(``$HYDRORISK_DB_URL``).

May import: the science modules.  Never readers, store, services, the worker or the CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydro.config.alerts import AlertRules, load_alerts
from hydro.config.files import read_toml
from hydro.config.schema import (  # noqa: F401  (re-exported: the file schemas)
    AccountingSettings,
    AgencyLayout,
    AlertEvaluation,
    AlertRule,
    AlertsFile,
    BasinsFile,
    PhenomenonCode,
    QCLimits,
    QCSettings,
    QCStation,
    QCVariables,
    QualityParameter,
    QualityParametersFile,
    Schedule,
    SettingsFile,
    Source,
    SourcesFile,
    ThresholdsFile,
)
from hydro.errors import ConfigError, validate
from hydro.network import (  # noqa: F401  (re-exported: the domain model config builds)
    Basin,
    Datum,
    Gauge,
    Names,
    Network,
    Node,
    Rating,
    Reach,
    Reservoir,
    Routing,
    StorageTable,
    Threshold,
    build_network,
)


@dataclass(frozen=True)
class Config:
    """Everything in ``config/``, validated."""

    root: Path
    settings: SettingsFile
    network: Network
    thresholds: list[Threshold]
    sources: SourcesFile
    quality_parameters: dict[str, QualityParameter]
    #: ``alerts.toml``: the alert rules resolved per station (:mod:`hydro.config.alerts`)
    alerts: AlertRules = field(default_factory=lambda: AlertRules(None, AlertEvaluation(),
                                                                  (), {}))

    def thresholds_for(self, station: str) -> list[Threshold]:
        return [t for t in self.thresholds if t.station == station]

    def layout(self, layout_id: str) -> AgencyLayout:
        for lay in self.sources.layouts:
            if lay.id == layout_id:
                return lay
        raise KeyError(layout_id)

    def source(self, source_id: str) -> Source:
        for s in self.sources.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)

    @property
    def quality_dir(self) -> Path:
        """The deployment's classification tables: ``<config>/quality``."""
        return self.root / "quality"

    def quality_table(self, system: str) -> Any:
        """The deployment's classification table of ``system`` ("kz2016", "kz2025", "ru",
        "ru-ukizv"), read from :attr:`quality_dir` (once per file version)."""
        from hydro.config.quality_tables import default_table

        return default_table(system, self.quality_dir)

    @property
    def notifications(self) -> Any:
        """``<config>/notifications.toml`` validated against the network (read on every
        access, so a worker picks up a changed file): a
        :class:`hydro.config.notifications.NotificationsFile`, empty when the file is
        absent; a :class:`ConfigError` naming the file and key when it is invalid."""
        from hydro.config.notifications import load_notifications

        return load_notifications(self.root / "notifications.toml", self.network)

    @property
    def project_root(self) -> Path:
        return self.root.parent

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.project_root / p

    @property
    def store_url(self) -> str:
        url = os.environ.get("HYDRORISK_DB_URL") or self.settings.store.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url.removeprefix("sqlite:///")
            if rel and rel != ":memory:":
                url = "sqlite:///" + str(self.resolve(rel))
        return url


def default_config_dir() -> Path:
    env = os.environ.get("HYDRORISK_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "config"
    if (here / "basins.toml").exists():
        return here
    return Path(__file__).resolve().parent.parent / "config"


def load_config(config_dir: str | Path | None = None) -> Config:
    """Load and validate every file in the config folder; raise :class:`ConfigError`."""
    root = Path(config_dir) if config_dir is not None else default_config_dir()
    if not root.is_dir():
        raise ConfigError(f"{root}: config folder not found (set HYDRORISK_CONFIG or --config)")
    settings_path = root / "settings.toml"
    settings = (validate(SettingsFile, read_toml(settings_path), settings_path)
                if settings_path.exists() else SettingsFile())
    basins_path = root / "basins.toml"
    basins_raw = validate(BasinsFile, read_toml(basins_path), basins_path)
    network = build_network(basins_raw, basins_path)

    thr_path = root / "thresholds.toml"
    thr = validate(ThresholdsFile, read_toml(thr_path), thr_path)
    gauge_ids = set(network.gauges) | set(network.reservoirs)
    for t in thr.thresholds:
        if t.station not in gauge_ids:
            raise ConfigError(
                f"{thr_path}: thresholds[station={t.station}].station: unknown station '{t.station}'"
            )
    src_path = root / "sources.toml"
    sources = validate(SourcesFile, read_toml(src_path), src_path)
    layout_ids = [lay.id for lay in sources.layouts]
    if len(set(layout_ids)) != len(layout_ids):
        dup = next(x for x in layout_ids if layout_ids.count(x) > 1)
        raise ConfigError(f"{src_path}: layouts[id={dup}].id: duplicate id '{dup}'")
    source_ids = [s.id for s in sources.sources]
    if len(set(source_ids)) != len(source_ids):
        dup = next(x for x in source_ids if source_ids.count(x) > 1)
        raise ConfigError(f"{src_path}: sources[id={dup}].id: duplicate id '{dup}'")
    for s in sources.sources:
        if s.format == "agency_csv" and s.layout not in layout_ids:
            raise ConfigError(
                f"{src_path}: sources[id={s.id}].layout: unknown layout '{s.layout}' "
                f"(known: {', '.join(layout_ids) or 'none'})"
            )
    seen_qc: set[str] = set()
    for q in sources.qc.stations:
        where = f"{src_path}: qc.stations[station={q.station}].station"
        if q.station not in gauge_ids:
            raise ConfigError(f"{where}: unknown station '{q.station}'")
        if q.station in seen_qc:
            raise ConfigError(f"{where}: duplicate entry for '{q.station}'")
        seen_qc.add(q.station)
    qp_path = root / "quality" / "parameters.toml"
    qp = validate(QualityParametersFile, read_toml(qp_path), qp_path)
    params: dict[str, QualityParameter] = {}
    for p in qp.parameters:
        if p.name in params:
            raise ConfigError(f"{qp_path}: parameters[id={p.name}].name: duplicate name '{p.name}'")
        params[p.name] = p
    alerts = load_alerts(root / "alerts.toml", network)
    return Config(root, settings, network, list(thr.thresholds), sources, params, alerts)
