#!/usr/bin/env sh
# A local CA and one certificate per service, for TLS between the containers of docker-compose.yml.
# usage: sh scripts/dev-certs.sh [out-dir] [name…]   (default .certs and every compose service)
# An existing CA in out-dir is kept, so running it again adds or renews service certificates only.
set -eu
out=${1:-.certs}
[ $# -gt 0 ] && shift
names=${*:-gateway accounts platforms sources jobs billing worker notifications lb postgres nats minio}
namespace=${K8S_NAMESPACE:-listbackup}
days=${CERT_DAYS:-825}

mkdir -p "$out"
chmod 700 "$out"
cd "$out"
if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=ListBackup local CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.crt 2>/dev/null
fi
for name in $names; do
  # The compose name, the Kubernetes Service names, and localhost for tests and the load balancer.
  san="DNS:$name,DNS:$name.$namespace.svc,DNS:$name.$namespace.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  # HAProxy reads certificate and key from one file.
  cat "$name.crt" "$name.key" > "$name.pem"
  rm -f "$name.csr" "$name.ext"
done
# Readable inside containers that run as another user; the directory itself stays private (700).
chmod 644 ./*.crt ./*.key ./*.pem
chmod 600 ca.key
echo "CA and certificates for: $names in $(pwd)"
