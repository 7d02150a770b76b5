// name: kg_versions
// description: Every load run (version of the graph) with its status and counts.
// params: none
// example: {}
MATCH (r:LoadRun)
RETURN r.seq AS version, r.id AS run, r.status AS status, r.loaded AS rows_loaded, r.rejected AS rows_rejected,
       r.counts AS counts, r.started_at AS started_at, r.finished_at AS finished_at
ORDER BY version
