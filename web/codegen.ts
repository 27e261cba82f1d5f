// TypeScript types and typed documents for every operation in examples/operations.
// `npm run codegen` writes src/gql/graphql.ts (generated, not committed).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../examples/operations/*.graphql"],
  generates: {
    "src/gql/graphql.ts": {
      plugins: ["typescript", "typescript-operations", "typed-document-node"],
      config: {
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: "string", ID: "string" },
        useTypeImports: true,
      },
    },
  },
};

export default config;
