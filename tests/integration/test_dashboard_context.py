"""dashboard.context.current() is the context of the app whose Flask app context is active
(a request, or a task such as a background cache refresh run in that app's context), not
the thread's first Dash app: several apps in one process keep their stores apart."""

from __future__ import annotations

import pytest


def test_current_is_the_app_of_the_active_app_context(config, tmp_path):
    from dash import _callback

    from dashboard import context
    from dashboard.app import create_app
    from dashboard.provider import StoreProvider
    from hydro.store.db import open_store

    engines = [open_store(f"sqlite:///{tmp_path / f'{n}.sqlite'}", config.network)
               for n in ("a", "b")]
    try:
        apps = []
        for engine in engines:
            _callback.GLOBAL_CALLBACK_MAP.clear()
            _callback.GLOBAL_CALLBACK_LIST.clear()
            apps.append(create_app(config, engine=engine,
                                   provider=StoreProvider(config, engine),
                                   secret_key="test-secret"))
        for app, engine in zip(apps, engines, strict=True):
            with app.server.app_context():            # no request: a task of this app
                assert context.serving_app() is app
                assert context.current().provider.engine is engine
            with app.server.test_request_context("/"):
                assert context.current().provider.engine is engine
        # outside any app context: dash's own choice (the thread's first app, which in a
        # whole test run is an earlier test's)
        import dash

        assert context.serving_app() is dash.get_app()
    finally:
        for engine in engines:
            engine.dispose()


def test_an_app_without_a_context_is_a_clear_error():
    import dash

    from dashboard import context

    bare = dash.Dash(__name__)
    bare.server.extensions["hydrorisk_dash_app"] = bare
    with bare.server.app_context(), pytest.raises(RuntimeError, match="create_app"):
        context.current()
