/**
 * The identity check of an API the connection's definition describes (the REST platform): a GET of
 * its first resource, with the key sent the way the definition says. A 2xx answer means the key and
 * the definition work; 401 or 403 that the API refused the key; anything else is a failure the
 * user can act on (a wrong path, an API that is down). The identity is the API's base URL.
 */
import { parseRestDefinition, restAuthHeaders, restResourceUrl } from '@listbackup/lib/rest-definition';
import { type Identity, probe, type Result } from '../oauth/http.ts';

export async function checkDefinedApi(definitionJson: string | undefined, key: string, timeoutMs: number): Promise<Result<{ identity: Identity }>> {
  // The definition was checked with the connection's parameters; a stored one parses the same way.
  const definition = parseRestDefinition(JSON.parse(definitionJson ?? 'null'));
  const url = restResourceUrl(definition, definition.resources[0]);
  const answer = await probe(url.toString(), { ...definition.headers, ...restAuthHeaders(definition, key) }, timeoutMs);
  if (!answer.ok) {
    const { failure } = answer;
    if (failure.kind === 'refused' && failure.status !== 401 && failure.status !== 403) {
      return { ok: false, failure: { kind: 'unavailable', status: failure.status, reason: `GET ${url.pathname} answered HTTP ${failure.status}: check the definition’s baseUrl and the first resource’s path` } };
    }
    return answer;
  }
  const base = new URL(definition.baseUrl);
  return { ok: true, identity: { id: `${base.origin}${base.pathname}`, name: definition.name, params: {} } };
}
