"""Dash Pages registration of the scenario lab at ``/scenarios`` (see
:mod:`dashboard.views.scenarios`).

URL query: ``lang`` (kk, ru, en); ``scenario`` (a scenario id, e.g. ``ural-2024-style``; the
first scenario file by default); ``plan`` (a plan of the scenario file, e.g.
``early-prerelease``, or a saved plan's id) with ``version`` (a saved plan's version; the
newest by default); ``run`` (a kept run's id: its results, or its progress while it runs);
``members`` (the ensemble size in the form, kept in the address so a reload keeps it),
e.g. ``/scenarios?lang=ru&scenario=ural-2024-style&plan=ural-2024-style/test&version=2``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import scenarios as view

dash.register_page(__name__, path="/scenarios", name="scenarios", title="hydrorisk",
                   order=7)


def layout(lang: str | None = None, scenario: str | None = None, plan: str | None = None,
           version: str | None = None, run: str | None = None, members: str | None = None,
           **_query: str) -> html.Div:
    """The page for the URL's ``lang``, ``scenario``, ``plan``, ``version``, ``run`` and
    ``members`` (other keys are ignored)."""
    ctx = current()
    return view.render(ctx, resolve_lang(_one(lang), ctx.default_language), _one(scenario),
                       _one(plan), _one(version), _one(run), _one(members))


def _one(value: object) -> str | None:
    """A query value given once (Dash passes a list for a repeated key: the last one)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) and value else None
