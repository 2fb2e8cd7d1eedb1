"""Component ids, one enum per view, so two views can each have their own "date" control."""

from __future__ import annotations

from enum import StrEnum


class Shell(StrEnum):
    """The navbar and the URL around every page."""

    TAGLINE = "shell-tagline"
    NAV_STATIONS = "shell-nav-stations"
    LANG_KK = "shell-lang-kk"
    LANG_RU = "shell-lang-ru"
    LANG_EN = "shell-lang-en"
    LANG_SWITCH = "shell-lang-switch"   # the language links' group (its aria-label)
    NAVIGATE = "shell-navigate"   # dcc.Location(refresh="callback-nav") for callbacks
    PAGES_LOCATION = "_pages_location"  # Dash Pages' own dcc.Location
    TIME_BANNERS = "shell-time-banners"  # data old / date outside the period / as-of
    DEFAULT_LANG = "shell-default-lang"  # dcc.Store: the configured language
    LANG = "shell-lang"                  # dcc.Store: the page language (clientside)


class Stations(StrEnum):
    """The stations page."""

    BANNER = "stations-synthetic-banner"
    DATE = "stations-date"
    SHOWN_DATE = "stations-shown-date"  # dcc.Store: the as-of day the page was rendered for
    LATEST = "stations-latest"
    FLOOD_2024 = "stations-flood-2024"
    SUMMARY = "stations-summary"
    MAP = "stations-map"
    ATTENTION = "stations-attention"
    GAUGE_TABLE = "stations-gauge-table"
    RESERVOIR_TABLE = "stations-reservoir-table"
    BODY = "stations-body"            # what the refresh interval re-renders
    REFRESH = "stations-refresh"      # dcc.Interval
    REFRESH_NOTE = "stations-refresh-note"
    GAUGE_EXPORT = "stations-gauge-export"
    RESERVOIR_EXPORT = "stations-reservoir-export"


class StationPage(StrEnum):
    """The station page (``/station/<id>``)."""

    TITLE = "station-title"
    FACTS = "station-facts"
    UNKNOWN = "station-unknown"
    BACK = "station-back"
    STAGE = "station-stage"
    DISCHARGE = "station-discharge"
    LEVEL = "station-level"
    INFLOW = "station-inflow"
    OUTFLOW = "station-outflow"
    # the full station page (issue 13 items 2-3)
    SPAN = "station-span"
    ASOF = "station-asof"
    DOWNLOAD_BUTTON = "station-download-button"
    DOWNLOAD = "station-download"
    STATUS = "station-status"
    DISAGREEMENT = "station-disagreement"
    FORECASTS = "station-forecasts"
    OUTLOOK = "station-outlook"
    REVISIONS = "station-revisions"
    METHODS = "station-methods"
    RESERVOIR_STATE = "station-reservoir-state"
    VOLUME = "station-volume"
    FLOWS = "station-flows"
    EVAPORATION = "station-evaporation"
    STAGE_GRAPH = "station-stage-graph"          # the graphs re-drawn at full resolution
    DISCHARGE_GRAPH = "station-discharge-graph"  # on zoom (server-side resampling)
