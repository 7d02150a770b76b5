"""cosmo.api.graphql: the Strawberry schema (queries and mutations), its types, the
per-request context with its DataLoaders, error codes and limits."""
