/** Worker thread side of SealPool: item hashing, chunk addressing, compression and sealing. */
import { createHash, createHmac, createSecretKey, type Hash, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { encodeChunk } from './codec.ts';
import { Sealer } from './crypto.ts';
import type { WorkerRequest, WorkerResponse } from './seal-pool.ts';

const KNOWN_LIMIT = 200_000;

interface Account {
  sealer: Sealer | null;
  idKey: KeyObject | null;
  known: Set<string>;
}

const accounts = new Map<string, Account>();
const streams = new Map<number, Hash>();

function account(id: string): Account {
  let entry = accounts.get(id);
  if (!entry) {
    entry = { sealer: null, idKey: null, known: new Set() };
    accounts.set(id, entry);
  }
  return entry;
}

function reply(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

parentPort!.on('message', (message: WorkerRequest) => {
  switch (message.type) {
    case 'key': {
      const entry = account(message.accountId);
      entry.sealer = new Sealer(message.accountId, message.encKey);
      entry.idKey = createSecretKey(Buffer.from(message.idKey));
      return;
    }
    case 'known': {
      const known = account(message.accountId).known;
      for (const address of message.addresses) {
        if (known.size >= KNOWN_LIMIT) known.clear();
        known.add(address);
      }
      return;
    }
    case 'forget': {
      const known = account(message.accountId).known;
      if (message.addresses === null) known.clear();
      else for (const address of message.addresses) known.delete(address);
      return;
    }
    case 'drop':
      streams.delete(message.stream);
      return;
    case 'digest': {
      const hash = streams.get(message.stream) ?? createHash('sha256');
      streams.delete(message.stream);
      reply({ type: 'digest', id: message.id, hash: hash.digest('hex') });
      return;
    }
    case 'chunk': {
      try {
        const entry = account(message.accountId);
        if (!entry.sealer || !entry.idKey) throw new Error(`no keys for account ${message.accountId}`);
        const data = message.data;
        if (message.hashItem) {
          let hash = streams.get(message.stream);
          if (!hash) {
            hash = createHash('sha256');
            streams.set(message.stream, hash);
          }
          hash.update(data);
        }
        const address = createHmac('sha256', entry.idKey).update(data).digest('hex');
        if (entry.known.has(address)) {
          reply({ type: 'chunk', id: message.id, address, sealed: null });
          return;
        }
        const sealed = encodeChunk(entry.sealer, address, data, message.level);
        // A private buffer when the sealed bytes share a pooled one, so the transfer detaches nothing else.
        const own = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength ? sealed : new Uint8Array(sealed);
        reply({ type: 'chunk', id: message.id, address, sealed: own }, [own.buffer as ArrayBuffer]);
      } catch (error) {
        reply({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
  }
});
