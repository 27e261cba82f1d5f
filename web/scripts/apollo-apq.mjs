// Apollo Client's own persisted-queries link against the API: the first query goes out as a
// hash-only GET, is not found, and is retried with the query; the second is a hash-only GET
// hit. Prints each request the link made and the data it got, as JSON.
// Usage: node scripts/apollo-apq.mjs http://127.0.0.1:8000/graphql
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const url = process.argv[2];
const requests = [];

async function recordingFetch(input, init = {}) {
  const target = new URL(String(input));
  const entry = {
    method: init.method ?? "GET",
    hasQuery: init.body ? "query" in JSON.parse(init.body) : target.searchParams.has("query"),
  };
  requests.push(entry);
  const response = await fetch(input, init);
  entry.status = response.status;
  return response;
}

const link = createPersistedQueryLink({
  sha256: (query) => createHash("sha256").update(query).digest("hex"),
  useGETForHashedQueries: true,
}).concat(new HttpLink({ uri: url, fetch: recordingFetch }));
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const SONGS = gql`
  query ApqSongs($search: String) {
    songs(first: 2, search: $search) {
      totalCount
      edges {
        node {
          id
          title
          artist
        }
      }
    }
  }
`;
const first = await client.query({ query: SONGS, variables: { search: "sheeran" }, fetchPolicy: "network-only" });
const second = await client.query({ query: SONGS, variables: { search: "sheeran" }, fetchPolicy: "network-only" });
process.stdout.write(JSON.stringify({ first: first.data, second: second.data, requests }));
