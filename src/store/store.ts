/** A model artifact as a prefix holds it. `name` is relative to the prefix: exactly what TargetModel takes. */
export interface ModelObject {
  name: string;
  size: number;
  lastModified: Date;
  /** S3: recorded by `mme push` in object metadata, unknown for objects written by other tools. Folders: the file's. */
  sha256?: string;
}

export interface PutOptions {
  overwrite: boolean;
  sha256: string;
  /**
   * The file's bytes, already read and hashed to `sha256` by the caller (one read and one hash for both the name and
   * the upload): sent as they are, not read again. At most {@link ONE_REQUEST_MAX} bytes.
   */
  bytes?: Buffer;
  signal?: AbortSignal;
  onProgress?(sentBytes: number): void;
}

export interface ListOptions {
  /** Only names starting with this (e.g. "m37/": one alias's versions). */
  under?: string;
  /** Called for each entry that is left out of the listing, with the reason (a folder fleet's undecodable name). */
  onSkip?(name: string, why: string): void;
}

/** The place a fleet's models live: an S3 prefix or a local folder, with the same semantics. */
export interface Store {
  /** The normalised prefix URL, ending in `/`. */
  readonly url: string;
  /** Every model under the prefix, all pages; with `under` (e.g. "m37/"), only names starting with it. */
  list(options?: ListOptions): Promise<ModelObject[]>;
  /** One model, or undefined if absent; `sha256` also reads a local file to hash it (S3 has it from the metadata). */
  head(name: string, options?: { sha256?: boolean; signal?: AbortSignal }): Promise<ModelObject | undefined>;
  /** Uploads a local file; refuses (WouldOverwrite) an existing name unless `overwrite`. Never leaves a partial object. */
  put(name: string, localPath: string, options: PutOptions): Promise<ModelObject>;
  /** Deletes names that the caller has checked exist. */
  remove(names: string[]): Promise<void>;
  /** Copies a model to a local file (atomically), for the local endpoint's disk cache. */
  download(name: string, localPath: string, signal?: AbortSignal): Promise<ModelObject>;
  /** A local folder's own file for a model, which the local endpoint unpacks in place rather than copy it first. */
  localFile?(name: string): string;
  /** A small document (the alias manifest) with the tag a conditional write compares against; undefined if absent. */
  readDocument(name: string): Promise<StoredDocument | undefined>;
  /**
   * Writes a small document only if it is unchanged since it was read (`ifMatch`) or still absent (`ifNoneMatch`);
   * throws {@link PreconditionFailed} otherwise. Returns the new tag.
   */
  writeDocument(name: string, bytes: Uint8Array, condition: WriteCondition): Promise<string>;
}

export interface StoredDocument {
  bytes: Buffer;
  /** Opaque: S3's ETag, or the folder store's generation tag. */
  etag: string;
}

export type WriteCondition = { ifMatch: string } | { ifNoneMatch: true };

/** A conditional write that lost: the document changed (or appeared) since it was read. */
export class PreconditionFailed extends Error {
  constructor(readonly documentName: string) {
    super(`${documentName} changed while it was being updated`);
    this.name = 'PreconditionFailed';
  }
}

/** Names under this folder of the prefix belong to mme (the alias manifest), never to models: listings skip them. */
export const RESERVED_PREFIX = '.mme/';

/** Artifacts up to this size go up in one request (S3: one PutObject; larger ones: 8 MiB parts), as the AWS CLI's. */
export const ONE_REQUEST_MAX = 8 * 1024 * 1024;
