"""cosmo.api.services: batched graph reads, navigation, explanations, the Redis caches and
the graph version; :func:`~cosmo.api.services.build.build_services` wires them."""
