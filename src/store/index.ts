import type { ClientSettings } from '../aws/clients.js';
import type { Store } from './store.js';

export type { Store, ModelObject, PutOptions, ListOptions, StoredDocument, WriteCondition } from './store.js';
export { ONE_REQUEST_MAX, PreconditionFailed, RESERVED_PREFIX } from './store.js';

/** Opens the store behind a normalised prefix; the S3 implementation (and the SDK) is loaded only when needed. */
export async function openStore(prefix: string, clients: ClientSettings, signal?: AbortSignal): Promise<Store> {
  if (prefix.startsWith('file://')) {
    const { FileStore } = await import('./file.js');
    return new FileStore(prefix);
  }
  const { S3Store } = await import('./s3.js');
  return new S3Store(prefix, clients, signal);
}
