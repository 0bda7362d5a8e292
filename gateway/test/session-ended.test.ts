import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startStack, type Stack } from './support/stack.ts';

// Through the gateway, with every subgraph real: what the person's token can still do after signing out.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const CREATE_ACCOUNT = 'mutation ($name: String!) { createAccount(input: { name: $name }) { id name myRole } }';

describe('through the gateway', () => {
  it('createAccount with myRole selected returns the account it created', async () => {
    const user = await signUp(stack);
    const name = `Client ${randomUUID()}`;
    const created = await stack.graphql(CREATE_ACCOUNT, { name }, user.accessToken);
    expect(created.errors).toBeUndefined();
    expect(created.data.createAccount).toMatchObject({ name, myRole: 'OWNER' });
    const listed = await stack.graphql('{ accounts { edges { node { id name } } } }', {}, user.accessToken);
    expect(listed.data.accounts.edges).toContainEqual({ node: { id: created.data.createAccount.id, name } });
  });

  it('after logOut the same access token is refused by me and by createAccount', async () => {
    const user = await signUp(stack);
    expect((await stack.graphql('{ me { id } }', {}, user.accessToken)).data.me.id).toBe(user.userId);
    expect((await stack.graphql('mutation { logOut }', {}, user.accessToken)).data.logOut).toBe(true);
    const me = await stack.graphql('{ me { id } }', {}, user.accessToken);
    expect(me.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(me.data?.me ?? null).toBeNull();
    const created = await stack.graphql(CREATE_ACCOUNT, { name: `After sign-out ${randomUUID()}` }, user.accessToken);
    expect(created.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(created.data?.createAccount ?? null).toBeNull();
  });
});
