"""Generate the bundled synthetic demonstration data set (``data/gauges/``).

Usage::

    hydrorisk generate-demo-data [--out data/gauges] [--seed 20240405]

Deterministic for a given seed and config: the same inputs give byte-identical files
(``MANIFEST.sha256`` lists their hashes).  Every file states in its header that it is
synthetic demonstration data.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.network import Gauge, Rating, climate_latitude
from hydro.synthetic import DEFAULT_SEED
from hydro.synthetic.climate import demo_basin_climate
from hydro.synthetic.external_ensemble import write_external_ensemble
from hydro.synthetic.predictors import (
    basin_predictors,
    observations_table,
    predictor_seed,
    write_basin_means,
)
from hydro.synthetic.water_quality import QUALITY_SITES, samples
from hydro.synthetic.runoff import lateral_inflow
from hydro.synthetic.simulate import NetworkRun, simulate

START, END = "2010-01-01", "2024-12-31"

#: nodes in mountain headwaters (Altai, Southern Urals): (temperature offset °C,
#: precipitation multiplier) against the steppe.
#: * the Sakmara (RU:TATARSKAYA-KARGALA) drains the wet western slope of the Southern
#:   Urals: (-1.5, 2.2) instead of (-4.5, 1.3), so that its 2024 flood is near the
#:   Roshydromet forecast (peak 2 300 m³/s, 5-6 km³, hydrology_facts.csv; with (-4.5, 1.3)
#:   the synthetic peak was 1 064 m³/s and the volume 3.1 km³, the Ural's volume being
#:   held at the Kushum target) and rises in the first days of April, when the Ural below
#:   it stood at 896 cm at Ilek (village) on 9 Apr (flood_2024.csv);
#: * the mountain rivers into Iriklinsk (-1.5, 1.0) melt a little later than the steppe:
#:   the reservoir took 1 630-1 890 m³/s on 2 Apr and stood at 243.98 m on 3 Apr 2024
#:   (flood_2024.csv, hydrology_facts.csv); with the steppe's warm-up the synthetic
#:   inflow of 30 Mar-3 Apr was too large for the dispatcher's releases (90, 390, 390,
#:   790 m³/s) to keep the level near 244 m
MOUNTAIN_NODES = {"BORDER:irtysh-cn-kz": (-6.0, 2.2), "KZ:BUKHTARMA": (-5.0, 1.8),
                  "KZ:UST-KAMENOGORSK": (-4.0, 2.0), "KZ:UST-KAMENOGORSK-RES": (-4.0, 1.8),
                  "RU:TATARSKAYA-KARGALA": (-1.5, 2.2), "RU:VERKHNEURALSK": (-1.5, 1.2),
                  "RU:IRIKLINSK": (-1.5, 1.0)}

#: per basin: (base runoff coefficient c₀, snowiness weight κ) of the frozen-soil runoff
#: coefficient (runoff.py).  The Ishim and Tobol steppes give little in ordinary years and
#: a great deal after a snowy winter on wet, deeply frozen soil (2024: Sergeevka's inflow
#: 6 017 m³/s against a previous maximum of 3 600 since 1969, flood_2024.csv).
RUNOFF_PARAMS: dict[str, tuple[float, float]] = {
    "ural": (0.12, 0.25), "irtysh": (0.12, 0.0), "tobol": (0.06, 0.6), "ishim": (-0.9, 2.0),
}

#: quick-flow time constant (days) where the default k_q = 6 d + √A/25 does not fit: the
#: many short mountain rivers into Iriklinsk bring its inflow up within days (1 630-1 890
#: m³/s on 2 Apr 2024, a week after the warm-up began; flood_2024.csv).  On the Ural the
#: local rivers between Orsk and Ilek (village) answer the warm-up within days too: the
#: Sakmara (4 d, a mountain river off the western slope like those into Iriklinsk: its
#: forecast 2024 peak 2 300 m³/s, hydrology_facts.csv, and the Ural below it at 896 cm at
#: Ilek (village) on 9 Apr, flood_2024.csv; with 6 d the synthetic peak was 2 002 m³/s
#: and Ilek stood at 840 cm on 9 Apr), the Orenburg
#: (5 d) and Ilek (village) (3 d) local catchments, so that the Ural stood at 864 cm at
#: Orenburg on 7 Apr and 896 cm at Ilek (village) on 9 Apr, and Uralsk at 728 cm on 11 Apr,
#: before the main wave from Orsk arrived (flood_2024.csv; with the default k_q of 11-13 d
#: the synthetic Uralsk stood at 635 cm on 11 Apr)
QUICK_K_DAYS: dict[str, float] = {"RU:IRIKLINSK": 4.0, "KZ:SERGEEVKA": 4.0, "KZ:11402": 4.0,
                                  "RU:TATARSKAYA-KARGALA": 4.0, "RU:ORENBURG": 5.0,
                                  "RU:ILEK": 3.0}

#: basins whose snowiness S (runoff.py) is measured on the basin's precipitation, not on
#: each node's: the depressions of the Ishim steppe fill and spill with the regional
#: snowpack (snow surveys are areal), and with the Ishim's large κ (2.0) the sampling noise
#: of one node's local wet days (a quarter of a winter total) moved its runoff coefficient
#: by 0.5 or more: in 2024 Sergeevka's 60 000 km² local catchment drew S = 1.27 against the
#: basin's 1.69 (Derzhavinsk upstream 1.70), so its frozen-soil runoff coefficient was 0.24
#: where the basin's snowiness gives 0.9 (the cap), and the reservoir's inflow was about
#: half the reported 6 017 m³/s on 8 Apr 2024 (flood_2024.csv)
REGIONAL_SNOWINESS = {"ishim"}

#: mean discharge (m³/s) over a period (first, last year) each basin's synthetic flow is
#: scaled to
MEAN_FLOW_TARGETS: dict[str, tuple[float, tuple[int, int], str]] = {
    "KZ:19072": (160.0, (2010, 2023), "Ural at Kushum: about 5 km3 a year in the recent "
                 "dry decade (hydrology_facts.csv; 10.1 km3 long-term)"),
    "RU:VIKULOVO": (59.4, (2010, 2023), "published long-term mean (before 2024): Ishim at "
                    "Vikulovo, rivers.csv"),
    "RU:KURGAN": (80.0, (2010, 2024), "estimate"),
    "RU:OMSK": (850.0, (2010, 2024), "estimate"),
}

#: gauges of the synthetic GloFAS-like ensemble extract (data/gauges/external): the Ural at
#: Yanvartsevo and Uralsk, the two Kazakh gauges below the border
EXTERNAL_GAUGES = ("KZ:19073", "KZ:19071")

BANNER_EN = ("SYNTHETIC DEMONSTRATION DATA generated by hydrorisk (hydro.synthetic, seed {seed}); "
             "NOT measurements. Load real series with `hydrorisk ingest` (see README).")
BANNER_RU = ("СИНТЕТИЧЕСКИЕ ДЕМОНСТРАЦИОННЫЕ ДАННЫЕ (hydrorisk, seed {seed}); это НЕ измерения.")
BANNER_KK = ("СИНТЕТИКАЛЫҚ ДЕМОНСТРАЦИЯЛЫҚ ДЕРЕКТЕР (hydrorisk, seed {seed}); бұл өлшеу ЕМЕС.")


@dataclass
class DemoSeries:
    days: pd.DatetimeIndex
    run: NetworkRun
    discharge: pd.DataFrame     # gauge id -> m³/s
    stage: pd.DataFrame         # gauge id -> cm above gauge zero (with ice effect)
    phenomena: pd.DataFrame     # gauge id -> phenomenon word (Russian) or ""
    temperature: dict[str, np.ndarray]


def _node_seed(seed: int, node_id: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(node_id.encode())) % (2**32)


def synthesize(config: Config, seed: int = DEFAULT_SEED) -> DemoSeries:
    """Climate -> lateral inflow -> network routing for every node (no files written)."""
    net = config.network
    days = pd.date_range(START, END, freq="D")
    rng = np.random.default_rng(seed)
    basin_temp, basin_precip = {}, {}
    for basin_id in sorted(net.basins):
        basin_temp[basin_id], basin_precip[basin_id] = demo_basin_climate(basin_id, days, seed)
    area_nodes = [nid for nid in net.order if getattr(net.node(nid), "local_catchment", None)]
    temps, precs, snow_precs, areas = [], [], [], []
    for nid in area_nodes:
        node = net.node(nid)
        nrng = np.random.default_rng(_node_seed(seed, nid))
        t_off, p_mult = MOUNTAIN_NODES.get(nid, (0.0, 1.0))
        lat = climate_latitude(node)
        lat_off = -0.6 * (lat - 52.0) if lat is not None else 0.0
        noise_t = nrng.normal(0.0, 1.0, days.size)
        temps.append(basin_temp[node.basin] + t_off + lat_off + noise_t)
        mult = p_mult * float(np.exp(nrng.normal(0.0, 0.1)))
        wet = nrng.random(days.size) < 0.85  # a little local intermittency
        precs.append(basin_precip[node.basin] * mult * wet / 0.85)
        snow_precs.append(basin_precip[node.basin] if node.basin in REGIONAL_SNOWINESS
                          else precs[-1])
        area = node.local_catchment
        assert area is not None  # area_nodes holds only nodes with a local catchment
        areas.append(area.to("area"))
    temp = np.column_stack(temps)
    precip = np.column_stack(precs)
    params = np.array([RUNOFF_PARAMS[net.node(nid).basin] for nid in area_nodes])
    lateral_all = lateral_inflow(days, temp, precip, np.asarray(areas),
                                 base_coeff=params[:, 0], snow_weight=params[:, 1],
                                 quick_k_days=np.array([QUICK_K_DAYS.get(n, np.nan)
                                                        for n in area_nodes]),
                                 snow_precip=np.column_stack(snow_precs))
    lateral = {nid: lateral_all[:, i] for i, nid in enumerate(area_nodes)}
    # scale each basin's lateral inflow so the long-term mean at its reference gauge matches
    run = simulate(net, lateral, days)
    for gid, (target, (first, last), _) in MEAN_FLOW_TARGETS.items():
        basin = net.node(gid).basin
        in_period = (days.year >= first) & (days.year <= last)
        scale = target / float(run.outflow[gid][in_period].mean())
        for nid in area_nodes:
            if net.node(nid).basin == basin:
                lateral[nid] = lateral[nid] * scale
    run = simulate(net, lateral, days)
    gauges = list(net.gauges)
    discharge = pd.DataFrame({g: run.outflow[g] for g in gauges}, index=days)
    ice = _ice_phenomena(days, basin_temp, net.gauges, rng)
    stage = pd.DataFrame(index=days)
    for gid, gauge in net.gauges.items():
        if gauge.rating is None:
            stage[gid] = np.nan
            continue
        s = gauge.rating.stage(discharge[gid].to_numpy())
        under_ice = ice[gid].isin(["ледостав", "затор"]).to_numpy()
        jam = (ice[gid] == "затор").to_numpy()
        s = s + np.where(under_ice, 18.0, 0.0) + np.where(jam, 45.0, 0.0)
        stage[gid] = np.round(s)
    return DemoSeries(days, run, discharge, stage, ice, basin_temp)


def _ice_phenomena(days, basin_temp, gauges: dict[str, Gauge], rng) -> pd.DataFrame:
    """Ice season per gauge from its basin's smoothed temperature (Russian words)."""
    out = pd.DataFrame(index=days)
    for gid, g in gauges.items():
        temp = basin_temp[g.basin]
        csum = np.concatenate([[0.0], np.cumsum(temp)])
        n = np.minimum(np.arange(1, temp.size + 1), 7)  # trailing 7-day mean (numpy only)
        t = (csum[1:] - csum[np.arange(temp.size) + 1 - n]) / n - 0.6 * (g.lat - 52.0)
        words = np.full(days.size, "", dtype=object)
        frozen = False
        drift_left = 0
        for i, v in enumerate(t):
            m = days[i].month
            if not frozen and m in (11, 12, 1) and v < -4.0:
                frozen = True
                words[max(0, i - 3):i] = "шуга"
            elif frozen and m in (3, 4, 5) and v > 1.0:
                frozen = False
                drift_left = 6
            if frozen:
                words[i] = "ледостав"
            elif drift_left > 0:
                words[i] = "ледоход"
                drift_left -= 1
        # an ice jam on the first days of the 2024 drift at the gauges that had one
        if gid in ("RU:ORSK", "KZ:11410", "RU:KURGAN"):
            drift = np.flatnonzero((words == "ледоход") & (days.year == 2024))
            words[drift[:2]] = "затор"
        out[gid] = words
    return out


# --------------------------------------------------------------------------- ratings

#: Synthetic 2024 crest per gauge (cm above gauge zero) used to anchor each rating:
#: "reported" crests and readings come from ../shared/reference/flood_2024.csv.
CREST_2024: dict[str, tuple[float, str]] = {
    "RU:ORSK": (950, "estimate: 912 cm reported on 9 Apr on the falling limb, crest not found"),
    "RU:ORENBURG": (1180, "reported: crest about 1180 cm on 14 Apr (hydrology_facts.csv)"),
    "RU:ILEK": (930, "estimate: 896 cm reported on 9 Apr"),
    "RU:TATARSKAYA-KARGALA": (900, "estimate"),
    "KZ:19073": (930, "estimate: 902 cm reported on 21 Apr, still rising"),
    "KZ:19071": (862, "reported: crest 855-870 cm on 22-27 Apr (hydrology_facts.csv)"),
    "KZ:19072": (850, "reported: crest about 850 cm on 25-27 Apr (hydrology_facts.csv)"),
    "KZ:19198": (1310, "reported: crest 1310 cm on 5 Apr (hydrology_facts.csv)"),
    "RU:KURGAN": (1013, "reported: 1013 cm on 18 Apr"),
    "RU:ZVERINOGOLOVSKOYE": (1100, "estimate: upstream sites exceeded the 1994 maximum"),
    "KZ:12008": (700, "estimate"),
    "KZ:11410": (1320, "reported: crest 1312-1340 cm on 17-19 Apr (hydrology_facts.csv)"),
    "KZ:11408": (1300, "estimate"),
    "KZ:11646": (1500, "estimate"),
    "RU:ISHIM": (1064, "reported: 1064 cm, the record of observations"),
    "RU:CHERLAK": (540, "estimate: no 2024 flood reported on the Irtysh at Cherlak"),
}
RATING_B = 1.7
RATING_H0_CM = 80.0
TYPICAL_ANNUAL_MAX_CM = 450.0
#: where no crest is reported: the highest stage a rating anchored on the median annual
#: maximum may give the 2010-2024 maximum (cm), and the steepest exponent it may take for it
RECORD_STAGE_CAP_CM = 1200.0
RATING_B_MAX = 3.8


def calibrate_ratings(series: DemoSeries, config: Config) -> dict[str, Rating]:
    """Ratings ``Q = a ((h - h0)/100)^b`` anchored on the synthetic 2024 crests.

    Where no crest is given, the rating puts the median synthetic annual maximum at
    450 cm, and, where that would put the 2010-2024 maximum above
    :data:`RECORD_STAGE_CAP_CM`, the maximum there as well (a steeper exponent, up to
    :data:`RATING_B_MAX`).  Used once to write the ratings into config/basins.toml
    (status "synthetic").
    """
    out = {}
    q = series.discharge
    for gid in config.network.gauges:
        assert isinstance(q.index, pd.DatetimeIndex)  # daily series from START to END
        annual_max = q[gid].groupby(q.index.year).max()
        if gid in CREST_2024:
            anchor_q, anchor_h, note = annual_max.loc[2024], CREST_2024[gid][0], CREST_2024[gid][1]
        else:
            anchor_q, anchor_h, note = annual_max.median(), TYPICAL_ANNUAL_MAX_CM, (
                "median synthetic annual maximum placed at 450 cm")
        b = RATING_B
        record = float(annual_max.max())
        h_record = RATING_H0_CM + 100.0 * (record / anchor_q) ** (1.0 / b) * (
            (anchor_h - RATING_H0_CM) / 100.0)
        if gid not in CREST_2024 and h_record > RECORD_STAGE_CAP_CM:
            # a steppe river whose 2024 flood was tens of times its ordinary one (the Ishim
            # above Petropavl, the Tobol at Milyutinka): one exponent put it 20-40 m over
            # gauge zero; the flood spreads over the floodplain instead, so the rating
            # steepens — the record is anchored at RECORD_STAGE_CAP_CM as well
            b = min(float(np.log(record / anchor_q)
                          / np.log((RECORD_STAGE_CAP_CM - RATING_H0_CM)
                                   / (anchor_h - RATING_H0_CM))), RATING_B_MAX)
            note += (f" and the 2010-2024 maximum at about {RECORD_STAGE_CAP_CM:g} cm "
                     "(two anchors: floodplain)")
        a = anchor_q / ((anchor_h - RATING_H0_CM) / 100.0) ** b
        out[gid] = Rating(a=f"{a:.4g} m3/s", b=round(b, 3), h0=f"{RATING_H0_CM:g} cm",
                          valid_from="2010-01-01", status="synthetic",
                          note=f"fitted to synthetic series; 2024 anchor: {note}")
    return out


def write_ratings_into_config(config: Config, ratings: dict[str, Rating]) -> None:
    """Replace each gauge's rating line in basins.toml (``# rating:ID`` or ``rating = ...``)."""
    path = config.root / "basins.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    current = None
    out = []
    for line in lines:
        if line.startswith("id = "):
            current = line.split('"')[1]
        if current in ratings and (line.startswith(f"# rating:{current}") or line.startswith("rating = ")):
            r = ratings[current]
            out.append(
                f'rating = {{ a = "{r.a}", b = {r.b}, h0 = "{r.h0}", valid_from = {r.valid_from}, '
                f'status = "{r.status}", note = "{r.note}" }}'
            )
            continue
        out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- writers

def _fmt_comma(x: float, decimals: int) -> str:
    return "" if not np.isfinite(x) else f"{x:.{decimals}f}".replace(".", ",")


def write_grdc(path: Path, gauge: Gauge, q: pd.Series, seed: int) -> None:
    """Daily discharge in the GRDC station export layout (';', -999 missing)."""
    lines = [
        "# Title:                 GRDC STATION DATA FILE",
        "#                        --------------",
        "# Format:                DOS-ASCII",
        "# Field delimiter:       ;",
        "# missing values are indicated by -999.000",
        "#",
        f"# {BANNER_EN.format(seed=seed)}",
        "#",
        "# GRDC-No.:              none (synthetic series; see Station id)",
        f"# Station id:            {gauge.id}",
        f"# River:                 {gauge.river.upper()}",
        f"# Station:               {gauge.names.en.upper()}",
        f"# Country:               {gauge.country}",
        f"# Latitude (DD):       {gauge.lat:.2f}",
        f"# Longitude (DD):      {gauge.lon:.2f}",
        "# Catchment area (km²):      -999",
        f"# Altitude (m ASL):        {gauge.datums[-1].zero.value:.2f}",
        "# Next downstream station:      -",
        "# Remarks:               SYNTHETIC DEMONSTRATION DATA",
        "#************************************************************",
        "#",
        "# Data Set Content:      MEAN DAILY DISCHARGE (Q)",
        "#                        --------------------",
        "# Unit of measure:                  m³/s",
        f"# Time series:           {q.index[0]:%Y-%m} - {q.index[-1]:%Y-%m}",
        f"# No. of years:          {q.index[-1].year - q.index[0].year + 1}",
        "# Last update:           2025-01-01",
        "#",
        "# Table Header:",
        "#     YYYY-MM-DD;hh:mm; Value",
        "#************************************************************",
        "#",
        f"# Data lines: {q.size}",
        "# DATA",
        "YYYY-MM-DD;hh:mm; Value",
    ]
    vals = np.where(np.isfinite(q.to_numpy()), q.to_numpy(), -999.0)
    body = [f"{d:%Y-%m-%d};--:--;{v:11.3f}" for d, v in zip(q.index, vals, strict=True)]
    path.write_text("\n".join(lines + body) + "\n", encoding="utf-8")


AGENCY_HEADERS = {
    "kazhydromet-ru": (["Код поста", "Пост", "Дата", "Срок", "Уровень воды, см",
                        "Изменение за сутки, см", "Расход воды, м3/с", "Ледовые явления"], "cp1251"),
    "kazhydromet-kk": (["Бекет коды", "Бекет", "Күні", "Мерзімі", "Су деңгейі, см",
                        "Тәулік ішіндегі өзгеріс, см", "Су шығыны, м3/с", "Мұз құбылыстары"], "utf-8"),
    "roshydromet": (["Индекс поста", "Название поста", "Дата", "Время",
                     "Уровень, см над нулём поста", "Явления"], "utf-8"),
}
KK_PHENOMENA = {"ледостав": "мұз қату", "ледоход": "мұз жүру", "затор": "кептеліс",
                "шуга": "қарасу", "": ""}


def write_agency(path: Path, layout: str, gauges: list[Gauge], stage: pd.DataFrame,
                 phen: pd.DataFrame, seed: int, party: str) -> None:
    headers, encoding = AGENCY_HEADERS[layout]
    banner = BANNER_KK if layout == "kazhydromet-kk" else BANNER_RU
    out = [f"# {banner.format(seed=seed)}", f"# {BANNER_EN.format(seed=seed)}", ";".join(headers)]
    for day in stage.index:
        for g in gauges:
            h = float(stage.at[day, g.id])  # type: ignore[arg-type]  # pandas-stubs: .at is any scalar
            if not np.isfinite(h):
                continue
            prev = float(stage[g.id].get(day - pd.Timedelta(days=1), np.nan))
            change = "" if not np.isfinite(prev) else f"{int(h - prev):+d}"
            word = str(phen.at[day, g.id])
            code = g.post_code or g.id.split(":", 1)[1]
            name = g.names.ru if layout != "kazhydromet-kk" else g.names.kk
            if layout == "kazhydromet-ru":
                row = [code, name, f"{day:%d.%m.%Y}", "08:00", f"{int(h)}", change, "", word]
            elif layout == "kazhydromet-kk":
                row = [code, name, f"{day:%d.%m.%Y}", "08:00", f"{int(h)}", change, "",
                       KK_PHENOMENA[word]]
            else:
                row = [code, name, f"{day:%Y-%m-%d}", "08:00", f"{int(h)}", word]
            out.append(";".join(row))
    path.write_bytes(("\r\n".join(out) + "\r\n").encode(encoding))


def write_reservoir(path: Path, res_id: str, s, days: pd.DatetimeIndex, seed: int) -> None:
    head = [f"# {BANNER_EN.format(seed=seed)}",
            "# Reservoir operations: level m (Baltic system), volume hm3 (end of day), daily mean "
            "inflow, outflow (= controlled release + spill), spill and evaporation in m3/s",
            "station;date;level_m;volume_hm3;inflow_m3s;outflow_m3s;spill_m3s;evaporation_m3s"]
    body = [
        f"{res_id};{d:%Y-%m-%d};{lv:.3f};{v:.3f};{i:.3f};{o:.3f};{sp:.3f};{e:.4f}"
        for d, lv, v, i, o, sp, e in zip(days, s.level_m, s.volume_hm3, s.inflow, s.outflow,
                                         s.spill, s.evaporation, strict=True)
    ]
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")


def write_predictors(config: Config, out_dir: Path, days: pd.DatetimeIndex, seed: int
                     ) -> Path:
    """The basin-mean winter predictors (hydro.synthetic.predictors) of every basin, as the
    CF-NetCDF file ``predictors/basin_means.nc`` (party KZ: Kazhydromet's extract)."""
    net = config.network
    frames = {}
    for basin in sorted(net.basins):
        temp, precip = demo_basin_climate(basin, days, seed)
        frames[basin] = basin_predictors(days, temp, precip,
                                         np.random.default_rng(predictor_seed(seed, basin)))
    obs = observations_table(frames, {b: net.basin_station(b) for b in frames}, "KZ")
    names = {net.basin_station(b): net.basins[b].names.en for b in frames}
    return write_basin_means(out_dir / "predictors" / "basin_means.nc", obs,
                             BANNER_EN.format(seed=seed), names)


def write_all(config: Config, out_dir: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Synthesize and write every bundled file; returns the paths written."""
    series = synthesize(config, seed)
    net = config.network
    missing = [g for g, gg in net.gauges.items() if gg.rating is None]
    if missing:
        raise ValueError(f"gauges without a rating: {', '.join(missing)}; run "
                         "`hydrorisk generate-demo-data --calibrate-ratings` first")
    written: list[Path] = []
    for sub in ("grdc", "agency/kazhydromet", "agency/kazhydromet-kk", "agency/roshydromet",
                "reservoirs", "quality"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for gid, g in net.gauges.items():
        p = out_dir / "grdc" / f"{gid.replace(':', '_')}_Q_Day.Cmd.txt"
        write_grdc(p, g, series.discharge[gid].round(3), seed)
        written.append(p)
    rng = np.random.default_rng([seed, 7])
    ru_view = series.stage.copy()
    for gid, g in net.gauges.items():
        if "RU" in g.parties and g.country == "KZ":
            # the Russian observer's reading of a shared border post: reading noise, and a
            # 12 cm offset in spring 2019 (a datum disagreement for QC to find)
            noise = rng.integers(-2, 3, size=ru_view.shape[0])
            offset = np.where((ru_view.index >= "2019-03-01") & (ru_view.index < "2019-06-01"), 12, 0)
            ru_view[gid] = ru_view[gid] + noise + offset
    for year in range(series.days[0].year, series.days[-1].year + 1):
        sel = series.days.year == year
        for basin in sorted(net.basins):
            kz = [g for g in net.gauges.values() if g.basin == basin and g.country == "KZ"]
            ru = [g for g in net.gauges.values() if g.basin == basin and
                  (g.country == "RU" or "RU" in g.parties)]
            layout = "kazhydromet-ru" if basin in ("ural", "tobol") else "kazhydromet-kk"
            p = out_dir / "agency" / layout.replace("-ru", "") / f"{basin}_{year}.csv"
            write_agency(p, layout, kz, series.stage[sel], series.phenomena[sel], seed, "KZ")
            written.append(p)
            p = out_dir / "agency" / "roshydromet" / f"{basin}_{year}.csv"
            write_agency(p, "roshydromet", ru, ru_view[sel], series.phenomena[sel], seed, "RU")
            written.append(p)
    for rid, s in series.run.reservoirs.items():
        p = out_dir / "reservoirs" / f"{rid.replace(':', '_')}.csv"
        write_reservoir(p, rid, s, series.days, seed)
        written.append(p)
    qrng = np.random.default_rng([seed, 11])
    frames: dict[str, list[pd.DataFrame]] = {}
    for site in QUALITY_SITES:
        frames.setdefault(net.gauges[site].basin, []).append(
            samples(site, series.discharge[site], qrng))
    for basin, fr in sorted(frames.items()):
        p = out_dir / "quality" / f"{basin}.csv"
        df = pd.concat(fr, ignore_index=True).sort_values(["date", "site"], kind="stable")
        text = f"# {BANNER_EN.format(seed=seed)}\n" + df.to_csv(sep=";", index=False)
        p.write_text(text, encoding="utf-8")
        written.append(p)
    written.append(write_predictors(config, out_dir, series.days, seed))
    written.extend(write_external_ensemble(
        out_dir / "external", config, {g: series.discharge[g] for g in EXTERNAL_GAUGES},
        seed=seed))
    manifest = out_dir / "MANIFEST.sha256"
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out_dir).as_posix()}"
             for p in sorted(written)]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written
