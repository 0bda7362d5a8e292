/**
 * Typed failures of the backup engine. Each carries a stable `code` so the jobs layer can map it to
 * a failure type (config, transient, internal) without parsing messages.
 */
export class EngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Authenticated decryption failed: wrong key, wrong account/address binding, or tampered bytes. */
export class DecryptionError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DECRYPTION_FAILED', message, options);
  }
}

export type ChunkProblem = 'missing' | 'corrupt';

/** A stored chunk that is absent or does not decrypt, decompress and re-hash to its address. */
export class ChunkIntegrityError extends EngineError {
  readonly address: string;
  readonly problem: ChunkProblem;
  constructor(address: string, problem: ChunkProblem, detail: string, options?: { cause?: unknown }) {
    super(problem === 'missing' ? 'CHUNK_MISSING' : 'CHUNK_CORRUPT', `chunk ${address} is ${problem}: ${detail}`, options);
    this.address = address;
    this.problem = problem;
  }
}

export class ObjectNotFoundError extends EngineError {
  readonly key: string;
  constructor(key: string) {
    super('OBJECT_NOT_FOUND', `object ${key} not found`);
    this.key = key;
  }
}

export class SnapshotNotFoundError extends EngineError {
  constructor(snapshotId: string) {
    super('SNAPSHOT_NOT_FOUND', `snapshot ${snapshotId} not found`);
  }
}

/** A restored item whose bytes do not hash to the content hash recorded in its manifest. */
export class ItemIntegrityError extends EngineError {
  constructor(itemId: string, detail: string) {
    super('ITEM_CORRUPT', `item ${itemId} failed verification: ${detail}`);
  }
}

/** Thrown by a validate hook (or the pipeline's own checks) to reject one item; the backup goes on without it. */
export class ItemRejectedError extends EngineError {
  constructor(message: string) {
    super('ITEM_REJECTED', message);
  }
}

/** Bad arguments from the caller (retention that keeps nothing, bad key spec, unsafe object key). */
export class EngineConfigError extends EngineError {
  constructor(message: string) {
    super('ENGINE_CONFIG', message);
  }
}
