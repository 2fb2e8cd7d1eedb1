"""One module per view: its layout as a function of a provider and plain parameters, and its
callbacks (plain functions, registered on an app by ``register_callbacks``).  The modules in
``dashboard/pages`` only register these views with Dash Pages."""
