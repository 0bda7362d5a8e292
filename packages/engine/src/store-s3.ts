/**
 * ObjectStore on S3-compatible storage. Tiers map to storage classes (hot → STANDARD,
 * warm → STANDARD_IA, cold → GLACIER_IR: instant retrieval, so a restore never waits for a thaw);
 * the mapping can be overridden for servers that name their classes differently.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ObjectNotFoundError } from './errors.ts';
import { assertKeyPrefix, assertObjectKey, type ObjectInfo, type ObjectStore, readAll, type StorageTier } from './store.ts';

export const DEFAULT_STORAGE_CLASSES: Readonly<Record<StorageTier, StorageClass>> = Object.freeze({
  hot: 'STANDARD',
  warm: 'STANDARD_IA',
  cold: 'GLACIER_IR',
});

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key, e.g. `listbackup/`. */
  prefix?: string;
  storageClasses?: Partial<Record<StorageTier, StorageClass>>;
  /**
   * Use `If-None-Match: *` so putIfAbsent never replaces an object (S3 since 2024, MinIO, R2).
   * Servers that ignore the header still behave correctly for the engine, whose immutable objects
   * are content-addressed or uniquely named, but putIfAbsent then reports every write as new.
   */
  conditionalWrites?: boolean;
}

export interface S3ConnectionConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  prefix?: string;
}

export class S3Store implements ObjectStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly classes: Record<StorageTier, StorageClass>;
  private readonly conditionalWrites: boolean;

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    if (this.prefix) assertKeyPrefix(this.prefix);
    this.classes = { ...DEFAULT_STORAGE_CLASSES, ...options.storageClasses };
    this.conditionalWrites = options.conditionalWrites ?? true;
  }

  /** A client for S3 or an S3-compatible server (MinIO, R2…): path-style when an endpoint is given. */
  static fromConfig(config: S3ConnectionConfig, options: Omit<S3StoreOptions, 'client' | 'bucket' | 'prefix'> = {}): S3Store {
    const client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle ?? Boolean(config.endpoint),
      credentials: config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // GCM already authenticates every object end to end; the SDK's extra checksums only narrow
      // which S3-compatible servers work.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3Store({ ...options, client, bucket: config.bucket, prefix: config.prefix });
  }

  storageClassOf(tier: StorageTier): StorageClass {
    return this.classes[tier];
  }

  private tierOf(storageClass: string | undefined): StorageTier {
    const cls = storageClass ?? 'STANDARD';
    for (const tier of ['cold', 'warm', 'hot'] as const) if (this.classes[tier] === cls) return tier;
    return cls === 'STANDARD' ? 'hot' : 'cold';
  }

  private fullKey(key: string): string {
    assertObjectKey(key);
    return this.prefix + key;
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const Key = this.fullKey(key);
    if (!this.conditionalWrites && (await this.exists(key))) return false;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
          StorageClass: this.classes.hot,
          IfNoneMatch: this.conditionalWrites ? '*' : undefined,
        }),
      );
      return true;
    } catch (error) {
      const status = httpStatus(error);
      // 412: the object exists. 409: a concurrent conditional write to the same key is in flight.
      if (status === 412) return false;
      if (status === 409 && (await this.exists(key))) return false;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.fullKey(key),
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/octet-stream',
        StorageClass: this.classes.hot,
      }),
    );
  }

  async get(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      const body = out.Body;
      if (body instanceof Readable) return body;
      if (body && typeof (body as any).transformToByteArray === 'function') return Readable.from([Buffer.from(await (body as any).transformToByteArray())]);
      return Readable.from([]);
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Range: `bytes=${offset}-${offset + length - 1}` }));
      const body = out.Body;
      if (body && typeof (body as any).transformToByteArray === 'function') return Buffer.from(await (body as any).transformToByteArray());
      return body instanceof Readable ? readAll(body) : Buffer.alloc(0);
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const { name, code, $metadata } = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const why = $metadata?.httpStatusCode ? `HTTP ${$metadata.httpStatusCode} ${name}` : code || name || String(error);
      throw new Error(`the bucket does not answer (${why})`);
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0), tier: this.tierOf(out.StorageClass) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield {
          key: object.Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
          tier: this.tierOf(object.StorageClass),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Rewrites the object onto the tier's storage class (a server-side copy onto itself). */
  async setTier(key: string, tier: StorageTier): Promise<void> {
    const info = await this.head(key);
    if (!info) throw new ObjectNotFoundError(key);
    if (info.tier === tier) return;
    const Key = this.fullKey(key);
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key,
        CopySource: `${this.bucket}/${Key.split('/').map(encodeURIComponent).join('/')}`,
        StorageClass: this.classes[tier],
        MetadataDirective: 'REPLACE',
        ContentType: 'application/octet-stream',
      }),
    );
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return httpStatus(error) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}
