// Runs graphql-http's GraphQL-over-HTTP server audits against a URL; prints the results as JSON.
// Usage: node scripts/audit-graphql-http.mjs http://127.0.0.1:8000/graphql
import { serverAudits } from "graphql-http";

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
}
process.stdout.write(JSON.stringify(results, null, 2));
