import path from 'node:path';

/** Where the GraphQL endpoint is (HTTP; the websocket is the same path). */
export const GRAPHQL_PATH = '/graphql';

/** Example shown in both IDEs on first open. */
export const EXAMPLE_OPERATION = `# ListBackup GraphQL API
#
# 1. Get an access token (in a new tab):
#      mutation { logIn(input: { email: "you@example.com", password: "…" }) { accessToken } }
# 2. Put it in: GraphiQL's token bar at the top, or Playground's HTTP HEADERS:
#      { "Authorization": "Bearer <access token>" }
# 3. Watch a job live, with fields from every subgraph:
subscription WatchJob($id: ID!) {
  jobUpdated(id: $id) {
    id
    status
    source {
      name
      connection { platform { name } }
    }
  }
}
`;

/** A file below `root`, or undefined for a path that would leave it. */
export function inside(root: string, relative: string): string | undefined {
  const file = path.resolve(root, decodeURIComponent(relative));
  return file.startsWith(root + path.sep) ? file : undefined;
}

export function escapeJsonForHtml(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026');
}
