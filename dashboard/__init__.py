"""hydrorisk dashboard: Dash pages over the data, through a data provider.

Start it with :func:`dashboard.app.create_app` (``create_app(config).run(host=..., port=...)``).
Importing this package imports nothing of Dash; ``hydro`` never imports it.

May import: hydro.services (data: ``hydro.services.observations``, ``.context`` …),
hydro.config and the science modules (figures, warning categories).  Never hydro.store,
hydro.readers, hydro.cli, hydro.worker or SQLAlchemy (tests/architecture).
"""
