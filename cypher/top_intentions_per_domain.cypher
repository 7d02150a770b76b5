// name: top_intentions_per_domain
// description: The most common intentions among the products of a domain (or of every domain when domain is null).
// params: domain (string or null) a Product domain; limit (int) rows
// example: {"domain": null, "limit": 20}
MATCH (p:Product)-[r]->(i:Intention)
WHERE $domain IS NULL OR p.domain = $domain
RETURN coalesce(p.domain, '(none)') AS domain, type(r) AS relation, i.text AS intention,
       count(DISTINCT p) AS products, avg(r.plausibility) AS mean_plausibility
ORDER BY products DESC, mean_plausibility DESC, intention
LIMIT $limit
