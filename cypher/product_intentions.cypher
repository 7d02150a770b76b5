// name: product_intentions
// description: The intentions that explain a product, strongest first, with how many behaviour pairs support each.
// params: product_id (string) the Product id; min_plausibility (float) drop weaker edges, e.g. 0.5; limit (int) rows
// example: {"product_id": "B00000J1U8", "min_plausibility": 0.5, "limit": 20}
MATCH (p:Product {id: $product_id})-[r]->(i:Intention)
WHERE r.plausibility >= $min_plausibility
RETURN type(r) AS relation, i.text AS intention, i.tail_type AS tail_type,
       r.plausibility AS plausibility, r.typicality AS typicality, r.frequency AS frequency
ORDER BY plausibility DESC, frequency DESC, intention
LIMIT $limit
