/** Who is calling, as verified by the gateway and carried to every subgraph. */
export type Principal =
  | { kind: 'user'; userId: string; sessionId: string }
  | { kind: 'apiKey'; apiKeyId: string; accountId: string; scopes: string[] }
  | { kind: 'anonymous' };

export const ANONYMOUS: Principal = { kind: 'anonymous' };
