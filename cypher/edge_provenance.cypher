// name: edge_provenance
// description: Where a knowledge edge came from: the behaviour pairs behind it, the generator model, the pipeline and load runs.
// params: head_id (string) a Product id or a Query key; intention_text (string) the intention's text
// example: {"head_id": "B00000J1U8", "intention_text": "USB extension cable"}
MATCH (h)-[r]->(i:Intention)
WHERE (h.id = $head_id OR h.key = $head_id) AND i.text = $intention_text
OPTIONAL MATCH (run:LoadRun {id: r.created_run})
RETURN labels(h)[0] AS head_label, type(r) AS relation, i.id AS intention_id, r.sources AS behaviour_pairs,
       r.frequency AS frequency, r.plausibility AS plausibility, r.typicality AS typicality,
       r.model AS model, r.pipeline_run AS pipeline_run, r.created_run AS created_run,
       r.created_at AS created_at, run.seq AS version, run.params AS load_parameters
