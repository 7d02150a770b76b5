"""cosmo.api.http: the FastAPI app (:func:`~cosmo.api.http.app.create_app`), its routes,
middleware (limits, metrics, the response cache) and the navigation page."""
