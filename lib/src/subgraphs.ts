/** The five subgraphs, their default ports and the SDL file each serves. */
export const SUBGRAPHS = [
  { name: 'accounts', port: 4001 },
  { name: 'platforms', port: 4002 },
  { name: 'sources', port: 4003 },
  { name: 'jobs', port: 4004 },
  { name: 'billing', port: 4005 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const GATEWAY_PORT = 4000;
