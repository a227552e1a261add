import http from 'node:http';

/**
 * An HTTP client for the multi-model serving container contract (Multi Model Server style; see
 * shared/reference/sagemaker-mme.md and the AWS "custom containers contract for multi-model endpoints"):
 *
 *   GET /ping                         200 when the container takes requests
 *   POST /models {"model_name","url"} LOAD: 200; 409 already loaded; 507 out of memory
 *   GET /models[?next_page_token=]    LIST: {"models":[{"modelName","modelUrl"}], "nextPageToken"?}
 *   GET /models/{name}                GET: 404 if not loaded
 *   DELETE /models/{name}             UNLOAD: 404 if not loaded
 *   POST /models/{name}/invoke        INVOKE: the body, Content-Type, Accept and custom attributes as sent
 *
 * One keep-alive agent: the warm path costs one request on an open connection.
 */

export interface ContainerAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The container could not be reached, or the connection broke before an answer (it died mid-request). */
export class ContainerUnreachable extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ContainerUnreachable';
  }
}

export class ContainerClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 10_000 });
  private readonly host: string;
  private readonly port: number;
  private readonly base: string;

  constructor(readonly url: string) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`the container URL must be http:// (got ${url})`);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.base = u.pathname.replace(/\/$/, '');
  }

  request(method: string, path: string, body?: Uint8Array | string, headers: Record<string, string | undefined> = {}, timeoutMs = 0): Promise<ContainerAnswer> {
    return new Promise((resolve, reject) => {
      const h: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
      if (body !== undefined) h['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      const req = http.request({ host: this.host, port: this.port, method, path: this.base + path, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
        res.on('error', (err) => reject(new ContainerUnreachable(`the container's answer broke off (${err.message})`, (err as NodeJS.ErrnoException).code)));
        res.on('aborted', () => reject(new ContainerUnreachable("the container's answer broke off")));
      });
      req.setNoDelay(true);
      req.on('error', (err) =>
        reject(
          new ContainerUnreachable(
            `cannot reach the container at ${this.url} (${(err as NodeJS.ErrnoException).code ?? err.message})`,
            (err as NodeJS.ErrnoException).code,
          ),
        ),
      );
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.end(body);
    });
  }

  ping(timeoutMs = 2000): Promise<ContainerAnswer> {
    return this.request('GET', '/ping', undefined, {}, timeoutMs);
  }

  load(name: string, url: string): Promise<ContainerAnswer> {
    return this.request('POST', '/models', JSON.stringify({ model_name: name, url }), { 'content-type': 'application/json' });
  }

  list(token?: string, limit?: number): Promise<ContainerAnswer> {
    const q = new URLSearchParams();
    if (limit !== undefined) q.set('limit', String(limit));
    if (token !== undefined) q.set('next_page_token', token);
    const qs = q.toString();
    return this.request('GET', `/models${qs ? `?${qs}` : ''}`);
  }

  get(name: string): Promise<ContainerAnswer> {
    return this.request('GET', `/models/${encodeURIComponent(name)}`);
  }

  unload(name: string): Promise<ContainerAnswer> {
    return this.request('DELETE', `/models/${encodeURIComponent(name)}`);
  }

  invoke(
    name: string,
    body: Uint8Array,
    contentType: string | undefined,
    accept: string | undefined,
    customAttributes: string | undefined,
    timeoutMs = 0,
  ): Promise<ContainerAnswer> {
    return this.request(
      'POST',
      `/models/${encodeURIComponent(name)}/invoke`,
      body,
      {
        'content-type': contentType,
        accept,
        'x-amzn-sagemaker-custom-attributes': customAttributes,
      },
      timeoutMs,
    );
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The message of a container's error answer: its JSON "message" when it has one, else the body as text. */
export function answerMessage(answer: ContainerAnswer): string {
  const text = answer.body.toString('utf8');
  try {
    const doc = JSON.parse(text) as { message?: unknown };
    if (typeof doc?.message === 'string') return doc.message;
  } catch {
    /* not JSON */
  }
  return text.trim() || `HTTP ${answer.status}`;
}
