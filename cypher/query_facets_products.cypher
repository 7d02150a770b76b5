// name: query_facets_products
// description: Search navigation: a query's intentions as facets (grouped by relation and tail type), each with the products that share it.
// params: query_key (string) the normalised query (lower case, single spaces); per_facet (int) products per facet
// example: {"query_key": "usb extension cable", "per_facet": 5}
MATCH (q:Query {key: $query_key})-[r]->(i:Intention)<-[r2]-(p:Product)
WITH type(r) AS relation, i.tail_type AS tail_type, i.text AS intention, r.plausibility AS plausibility,
     p ORDER BY p.title
WITH relation, tail_type, intention, plausibility, collect(DISTINCT {id: p.id, title: p.title}) AS products
RETURN relation, tail_type, intention, plausibility, size(products) AS product_count,
       products[0..$per_facet] AS products
ORDER BY plausibility DESC, product_count DESC, intention
