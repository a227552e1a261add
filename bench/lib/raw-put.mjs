// The server's floor for an upload benchmark: PUTs every file of a folder to an S3-compatible server on 127.0.0.1
// with as little client work as there can be (no signing, no hashing, no checksums, keep-alive connections), so that
// what is left of its time is the server's. Usage: node raw-put.mjs <dir> <endpoint-url> <bucket/prefix/> <concurrency>
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [dir, endpoint, prefix, concurrency = '10'] = process.argv.slice(2);
const url = new URL(endpoint);
const files = fs.readdirSync(dir).sort();
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
let next = 0;

function put(file) {
  const body = fs.readFileSync(path.join(dir, file));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: `/${prefix}${file}`,
        agent,
        // moto reads the region from the credential scope; it does not check the signature.
        headers: { 'content-length': body.length, authorization: 'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${file}: HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function worker() {
  while (next < files.length) await put(files[next++]);
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
agent.destroy();
