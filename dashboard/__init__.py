"""hydrorisk dashboard: Dash pages over the store, through a data provider.

Start it with :func:`dashboard.app.create_app` (``create_app(config).run(host=..., port=...)``).
Importing this package imports nothing of Dash; ``hydro`` never imports it.
"""
