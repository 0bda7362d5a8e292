import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA and certificates for `names` in `dir`, as `npm run certs` makes them for compose; returns the path of a file there. */
export function makeCertificates(dir: string, names: string[]): (file: string) => string {
  execFileSync('sh', ['scripts/dev-certs.sh', dir, ...names], { stdio: 'pipe' });
  return (file) => join(dir, file);
}

/**
 * A certificate for `name` alone (no localhost), issued by the CA of `makeCertificates(dir, …)`:
 * a server presenting it to a caller that dialled another name fails the caller's host name check.
 */
export function issueCertificate(dir: string, name: string): { certFile: string; keyFile: string } {
  const at = (file: string) => join(dir, file);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`)], { stdio: 'pipe' });
  writeFileSync(at(`${name}.ext`), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\n`);
  execFileSync('openssl', ['x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-sha256', '-days', '2', '-extfile', at(`${name}.ext`), '-out', at(`${name}.crt`)], { stdio: 'pipe' });
  return { certFile: at(`${name}.crt`), keyFile: at(`${name}.key`) };
}
