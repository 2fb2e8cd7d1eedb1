"""Synthetic monthly water-quality samples (demonstration only; not measurements)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Parameter:
    name: str
    unit: str
    median: float          # typical concentration at a clean site
    sd_log: float          # lognormal spread
    detection_limit: float | None
    flow_exponent: float   # concentration ∝ (Q / Q_median) ** exponent (dilution < 0)
    decimals: int


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("dissolved_oxygen", "mg/l", 9.5, 0.08, None, 0.0, 2),
    Parameter("BOD5", "mgO2/l", 2.0, 0.35, 0.5, -0.1, 2),
    Parameter("COD", "mgO/l", 18.0, 0.25, 4.0, 0.1, 1),
    Parameter("ammonium_ion", "mg/l", 0.25, 0.6, 0.05, -0.1, 3),
    Parameter("nitrite", "mg/l", 0.03, 0.7, 0.003, 0.0, 4),
    Parameter("nitrate", "mg/l", 2.0, 0.5, 0.1, 0.1, 2),
    Parameter("phosphate", "mg/l", 0.08, 0.6, 0.01, 0.0, 3),
    Parameter("sulfate", "mg/l", 110.0, 0.25, None, -0.25, 1),
    Parameter("chloride", "mg/l", 70.0, 0.3, None, -0.25, 1),
    Parameter("magnesium", "mg/l", 28.0, 0.25, None, -0.2, 1),
    Parameter("calcium", "mg/l", 65.0, 0.2, None, -0.15, 1),
    Parameter("mineralization", "mg/l", 550.0, 0.2, None, -0.2, 0),
    Parameter("iron_total", "mg/l", 0.10, 0.6, 0.02, 0.3, 3),
    Parameter("copper", "mg/l", 0.0018, 0.6, 0.001, 0.1, 4),
    Parameter("zinc", "mg/l", 0.008, 0.6, 0.005, 0.1, 4),
    Parameter("oil_products", "mg/l", 0.035, 0.6, 0.02, 0.0, 3),
    Parameter("phenols", "mg/l", 0.0012, 0.6, 0.0005, 0.0, 4),
    Parameter("suspended_solids", "mg/l", 20.0, 0.6, 3.0, 0.6, 1),
    Parameter("pH", "pH", 7.9, 0.02, None, 0.0, 2),
)

#: site -> multiplier on pollutant medians (synthetic): the lower Ural carries oil products,
#: the Ural and Ishim more dissolved salts, the Irtysh below the mining towns more metals.
SITE_LOADING: dict[str, dict[str, float]] = {
    "KZ:19073": {"magnesium": 1.6, "sulfate": 1.5, "mineralization": 1.4, "chloride": 1.3},
    "RU:ILEK": {"magnesium": 1.5, "sulfate": 1.4, "mineralization": 1.3},
    "KZ:19802": {"oil_products": 2.5, "magnesium": 1.7, "sulfate": 1.6, "phenols": 1.5},
    "RU:ORSK": {"copper": 2.0, "zinc": 1.8, "iron_total": 1.5},
    "KZ:11025": {"copper": 2.5, "zinc": 3.0},
    "KZ:11041": {"copper": 2.0, "zinc": 2.2},
    "RU:CHERLAK": {"copper": 1.8, "zinc": 2.0},
    "KZ:12009": {"sulfate": 1.4, "ammonium_ion": 1.5, "phosphate": 1.3},
    "RU:ZVERINOGOLOVSKOYE": {"sulfate": 1.3, "ammonium_ion": 1.4},
    "KZ:11646": {"chloride": 1.5, "mineralization": 1.4, "ammonium_ion": 1.3},
    "RU:ISHIM": {"chloride": 1.4, "mineralization": 1.3},
}

QUALITY_SITES: tuple[str, ...] = tuple(SITE_LOADING)


def samples(site: str, discharge: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """One sample a month (on the 10th–20th) of every parameter at ``site``.

    ``discharge`` is the site's daily discharge (m³/s) indexed by date.  Returns columns
    site, date, parameter, value (text: ``"<DL"`` when below detection), unit.
    """
    loading = SITE_LOADING.get(site, {})
    q_median = float(discharge.median())
    months = pd.date_range(discharge.index[0], discharge.index[-1], freq="MS")
    rows = []
    for m in months:
        day = m + pd.Timedelta(days=int(rng.integers(9, 20)))
        if day not in discharge.index:
            continue
        q_rel = max(float(discharge.loc[day]) / q_median, 0.05)
        under_ice = day.month in (12, 1, 2, 3)
        for p in PARAMETERS:
            median = p.median * loading.get(p.name, 1.0)
            if p.name == "dissolved_oxygen" and under_ice:
                median *= 0.78
            value = median * q_rel ** p.flow_exponent * np.exp(rng.normal(0.0, p.sd_log))
            if p.detection_limit is not None and value < p.detection_limit:
                text = f"<{p.detection_limit:g}"
            else:
                text = f"{value:.{p.decimals}f}"
            rows.append((site, day.date().isoformat(), p.name, text, p.unit))
    return pd.DataFrame(rows, columns=["site", "date", "parameter", "value", "unit"])
