// name: intention_products
// description: The products that serve an intention (matched by words in its text), with the relation that links them.
// params: text (string) words to look for in the intention, lower case; limit (int) rows
// example: {"text": "usb", "limit": 25}
MATCH (i:Intention)<-[r]-(p:Product)
WHERE toLower(i.text) CONTAINS $text
RETURN DISTINCT p.id AS product_id, p.title AS title, type(r) AS relation, i.text AS intention,
       r.plausibility AS plausibility
ORDER BY plausibility DESC, product_id
LIMIT $limit
