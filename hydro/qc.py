"""Quality-control flags stored with every observation (a bit mask; nothing is deleted)."""

from __future__ import annotations

from enum import IntFlag


class QC(IntFlag):
    """QC flag bits.  A value of 0 means "no flag raised"."""

    ICE = 1                 # read under ice cover, frazil or behind an ice jam
    RANGE = 2               # outside the physical range
    SPIKE = 4               # rate of change beyond the station's limit
    FLAT = 8                # flat line
    GAP = 16                # first value after a gap
    DUPLICATE_CONFLICT = 32 # same time reported twice with different values
    RATING = 64             # stage and discharge disagree with the rating
    PARTY_DISAGREE = 128    # the two parties' readings of a border gauge disagree
    CENSORED = 256          # below the detection limit (water quality)


#: phenomena codes that make a stage reading ice-affected
ICE_PHENOMENA = frozenset({"ice_cover", "ice_jam", "frazil"})


def describe(flags: int) -> list[str]:
    """Names of the flags set in ``flags``, e.g. ``["ICE", "SPIKE"]``."""
    return [f.name for f in QC if f.name and flags & f]
