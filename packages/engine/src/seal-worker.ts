/** Worker thread side of SealPool: chunk digests, addresses, compression and sealing. */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeChunk } from './codec.ts';
import { chunkDigest, Sealer } from './crypto.ts';
import type { WorkerRequest, WorkerResponse } from './seal-pool.ts';

const KNOWN_LIMIT = 200_000;

interface Account {
  sealer: Sealer | null;
  idKey: KeyObject | null;
  known: Set<string>;
}

const accounts = new Map<string, Account>();
/** Chunks taken up, shared with the pool: it balances by what is queued here, not by answers it has read. */
const taken: Int32Array = workerData.taken;

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
    case 'chunk': {
      Atomics.add(taken, 0, 1);
      try {
        const entry = account(message.accountId);
        if (!entry.sealer || !entry.idKey) throw new Error(`no keys for account ${message.accountId}`);
        const data = message.data;
        const digest = chunkDigest(data);
        const address = createHmac('sha256', entry.idKey).update(digest).digest('hex');
        if (entry.known.has(address)) {
          reply({ type: 'chunk', id: message.id, address, digest, sealed: null });
          return;
        }
        const sealed = encodeChunk(entry.sealer, address, data, message.level);
        // A private buffer when the sealed bytes share a pooled one, so the transfer detaches nothing else.
        const own = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength ? sealed : new Uint8Array(sealed);
        reply({ type: 'chunk', id: message.id, address, digest, sealed: own }, [own.buffer as ArrayBuffer]);
      } catch (error) {
        reply({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
  }
});
