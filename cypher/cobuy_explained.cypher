// name: cobuy_explained
// description: Products co-bought with a product, each with the intentions both share (why they go together).
// params: product_id (string) the Product id; limit (int) rows
// example: {"product_id": "B00000J1U8", "limit": 20}
MATCH (a:Product {id: $product_id})-[:CO_BUY]-(b:Product)
MATCH (a)-[r]->(i:Intention)<-[r2]-(b)
WHERE b <> a AND type(r) = type(r2)
WITH b, collect(DISTINCT {relation: type(r), intention: i.text}) AS shared
RETURN b.id AS product_id, b.title AS title, size(shared) AS shared_count, shared
ORDER BY shared_count DESC, product_id
LIMIT $limit
