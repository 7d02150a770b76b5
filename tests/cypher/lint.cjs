// Lint Cypher with Neo4j's parser. stdin: JSON list of {name, text}; stdout: JSON list of problems.
const { lintCypherQuery } = require("@neo4j-cypher/language-support");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const problems = [];
  for (const q of JSON.parse(input)) {
    const { diagnostics } = lintCypherQuery(q.text, {});
    for (const d of diagnostics) {
      // parameters are bound at run time; the linter has no schema to know them
      if (/^Parameter \$\w+ is not defined/.test(d.message)) continue;
      problems.push({ name: q.name, severity: d.severity, message: d.message, offset: d.offsets && d.offsets.start });
    }
  }
  process.stdout.write(JSON.stringify(problems));
});
