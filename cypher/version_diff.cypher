// name: version_diff
// description: The knowledge edges added after version from_seq up to version to_seq, counted per relation.
// params: from_seq (int) the older version (LoadRun seq); to_seq (int) the newer version
// example: {"from_seq": 0, "to_seq": 1}
MATCH (h)-[r]->(i:Intention)
WHERE r.created_seq > $from_seq AND r.created_seq <= $to_seq
RETURN type(r) AS relation, count(r) AS added, collect(DISTINCT r.created_run)[0..5] AS runs
ORDER BY added DESC, relation
