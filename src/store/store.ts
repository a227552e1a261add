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
  signal?: AbortSignal;
  onProgress?(sentBytes: number): void;
}

export interface ListOptions {
  /** Called for each entry that is left out of the listing, with the reason (a folder fleet's undecodable name). */
  onSkip?(name: string, why: string): void;
}

/** The place a fleet's models live: an S3 prefix or a local folder, with the same semantics. */
export interface Store {
  /** The normalised prefix URL, ending in `/`. */
  readonly url: string;
  /** Every model under the prefix, all pages. */
  list(options?: ListOptions): Promise<ModelObject[]>;
  /** One model, or undefined if absent; `sha256` also reads a local file to hash it (S3 has it from the metadata). */
  head(name: string, options?: { sha256?: boolean; signal?: AbortSignal }): Promise<ModelObject | undefined>;
  /** Uploads a local file; refuses (WouldOverwrite) an existing name unless `overwrite`. Never leaves a partial object. */
  put(name: string, localPath: string, options: PutOptions): Promise<ModelObject>;
  /** Deletes names that the caller has checked exist. */
  remove(names: string[]): Promise<void>;
  /** Copies a model to a local file (atomically), for the local endpoint's disk cache. */
  download(name: string, localPath: string, signal?: AbortSignal): Promise<ModelObject>;
}
