"""``config/alerts.toml``: the alert rules, resolved per station.

A rule is set as a default (neither ``station`` nor ``basin``), for a basin or for a station;
for each station the rule of an id set for the station replaces the basin's, which replaces
the default (see :class:`hydro.config.schema.AlertRule`).  A rule applies only to the nodes
its kind is about (:data:`hydro.config.schema.ALERT_KIND_NODES`: stage rules to gauges,
reservoir rules to reservoirs, ``border_min_flow`` to border nodes); ``enabled = false`` at a
station switches a default off there.

Every failure is a :class:`~hydro.errors.ConfigError` naming the file and the key, e.g.::

    config/alerts.toml: rules[id=stage-level].station: unknown station 'RU:ORKS'

May import: the science modules and :mod:`hydro.config.files` / :mod:`hydro.config.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hydro.config.files import read_toml
from hydro.config.schema import ALERT_KIND_NODES, AlertEvaluation, AlertRule, AlertsFile
from hydro.errors import ConfigError, validate
from hydro.network import Network


def node_kind(network: Network, station_id: str) -> str:
    """``gauge``, ``reservoir`` or the kind of another node (``border``, ``confluence`` …)."""
    if station_id in network.gauges:
        return "gauge"
    if station_id in network.reservoirs:
        return "reservoir"
    return network.nodes[station_id].kind


@dataclass(frozen=True)
class AlertRules:
    """The validated rules of ``alerts.toml`` and, per station, the rules in force there."""

    path: Path | None
    evaluation: AlertEvaluation
    rules: tuple[AlertRule, ...]
    by_station: dict[str, tuple[AlertRule, ...]] = field(default_factory=dict)

    def rules_for(self, station_id: str) -> tuple[AlertRule, ...]:
        """The enabled rules in force at ``station_id`` (station > basin > default)."""
        return self.by_station.get(station_id, ())

    def rule(self, rule_id: str, station_id: str) -> AlertRule | None:
        """The rule ``rule_id`` as it applies at ``station_id`` (None: not in force there)."""
        return next((r for r in self.rules_for(station_id) if r.id == rule_id), None)

    @property
    def rule_ids(self) -> list[str]:
        return list(dict.fromkeys(r.id for r in self.rules))

    def stations_of(self, rule_id: str) -> list[str]:
        return [s for s, rs in self.by_station.items() if any(r.id == rule_id for r in rs)]


def resolve_rules(file: AlertsFile, network: Network, path: object = "alerts.toml",
                  ) -> AlertRules:
    """Check every rule against the network and resolve the rules of each station."""
    seen: dict[tuple[str, str | None, str | None], int] = {}
    kinds: dict[str, str] = {}
    for r in file.rules:
        where = f"{path}: rules[id={r.id}]"
        key = (r.id, r.station, r.basin)
        if key in seen:
            raise ConfigError(f"{where}: the rule is set twice for {r.scope}")
        seen[key] = 1
        if r.id in kinds and kinds[r.id] != r.kind:
            raise ConfigError(f"{where}.kind: rule '{r.id}' is of kind '{kinds[r.id]}' "
                              f"elsewhere, not '{r.kind}' (one kind per rule id)")
        kinds[r.id] = r.kind
        if r.basin is not None and r.basin not in network.basins:
            raise ConfigError(f"{where}.basin: unknown basin '{r.basin}'")
        if r.station is not None:
            try:
                kind = node_kind(network, r.station)
            except KeyError:
                raise ConfigError(f"{where}.station: unknown station '{r.station}'") from None
            if kind not in ALERT_KIND_NODES[r.kind]:
                raise ConfigError(
                    f"{where}.station: a rule of kind '{r.kind}' applies to "
                    f"{' and '.join(k + 's' for k in ALERT_KIND_NODES[r.kind])}; "
                    f"'{r.station}' is a {kind}")
    by_station: dict[str, tuple[AlertRule, ...]] = {}
    for sid in network.all_ids():
        kind = node_kind(network, sid)
        basin = network.basin_of(sid)
        chosen: dict[str, tuple[int, AlertRule]] = {}
        for r in file.rules:
            if kind not in ALERT_KIND_NODES[r.kind]:
                continue
            if r.station is not None:
                rank = 3 if r.station == sid else 0
            elif r.basin is not None:
                rank = 2 if r.basin == basin else 0
            else:
                rank = 1
            if rank and (r.id not in chosen or rank > chosen[r.id][0]):
                chosen[r.id] = (rank, r)
        rules = tuple(r for _, r in chosen.values() if r.enabled)
        if rules:
            by_station[sid] = rules
    return AlertRules(Path(str(path)) if path else None, file.evaluation, tuple(file.rules),
                      by_station)


def load_alerts(path: Path, network: Network) -> AlertRules:
    """Read, validate and resolve ``alerts.toml``; no file means no rules."""
    if not path.exists():
        return AlertRules(path, AlertEvaluation(), (), {})
    raw = validate(AlertsFile, read_toml(path), path)
    return resolve_rules(raw, network, path)
