// name: audience_products
// description: The products meant for an audience (USED_FOR_AUD and USED_BY edges), e.g. "new parents" or "kids".
// params: audience (string) words of the audience, lower case; limit (int) rows
// example: {"audience": "kids", "limit": 25}
MATCH (p:Product)-[r]->(i:Intention)
WHERE type(r) IN ['USED_FOR_AUD', 'USED_BY'] AND toLower(i.text) CONTAINS $audience
RETURN DISTINCT p.id AS product_id, p.title AS title, i.text AS audience, r.plausibility AS plausibility
ORDER BY plausibility DESC, product_id
LIMIT $limit
