// How a frontend uses the generated documents: results and variables are typed from
// schema.graphql, so a renamed field or a wrong variable fails `npm run typecheck`.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

import {
  MeDocument,
  RecommendationsDocument,
  RecordInteractionDocument,
  RegisterDocument,
  SongsDocument,
} from "./gql/graphql";

export async function request<Result, Variables>(
  url: string,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  token?: string,
): Promise<Result> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: Result; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(body.errors?.map((e) => e.message).join("; ") ?? "no data");
  }
  return body.data;
}

export async function happyListener(url: string): Promise<string[]> {
  const { register } = await request(url, RegisterDocument, {
    input: { email: "asha@example.com", password: "correct horse battery", displayName: "Asha" },
  });
  const token: string = register.accessToken;

  const { songs } = await request(url, SongsDocument, {
    search: "sheeran",
    filter: { energy: { min: 0.5 } },
    order: "POPULARITY",
  });
  const first = songs.edges[0]?.node;
  if (first) {
    await request(url, RecordInteractionDocument, { input: { songId: first.id, kind: "LIKE" } }, token);
  }

  const { me } = await request(url, MeDocument, {}, token);
  const { recommendations } = await request(url, RecommendationsDocument, { mood: "HAPPY", first: 5 }, token);
  return recommendations.map((r) => `${r.song.title} by ${r.song.artist} for ${me.displayName}: ${r.reasons[0] ?? ""}`);
}

export function typeErrorsAreCaught(url: string): void {
  // @ts-expect-error: "JOYFUL" is not a Mood
  void request(url, RecommendationsDocument, { mood: "JOYFUL" });
  // @ts-expect-error: RecordInteraction needs `input.kind`
  void request(url, RecordInteractionDocument, { input: { songId: "1" } });
  void request(url, SongsDocument, {}).then(({ songs }) => {
    // @ts-expect-error: Songs does not select audioFeatures
    return songs.edges[0]?.node.audioFeatures;
  });
}
