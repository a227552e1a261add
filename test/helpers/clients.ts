// Independent clients of an endpoint, as applications and people call it: boto3 and the aws CLI.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { baseEnv } from './cli.js';

export const hasBoto3 = spawnSync('python3', ['-c', 'import boto3']).status === 0;
export const hasAwsCli = spawnSync('aws', ['--version']).status === 0;

/** `aws sagemaker-runtime invoke-endpoint …` writing the answer's body to `outFile`; its exit status, stdout and stderr. */
export function awsCliInvoke(
  url: string,
  endpoint: string,
  args: { target: string; body: string; contentType?: string; customAttributes?: string },
  outFile: string,
): SpawnSyncReturns<string> {
  const argv = ['sagemaker-runtime', 'invoke-endpoint', '--endpoint-url', url, '--endpoint-name', endpoint, '--region', 'us-east-1'];
  argv.push('--target-model', args.target, '--content-type', args.contentType ?? 'text/csv', '--body', args.body);
  if (args.customAttributes !== undefined) argv.push('--custom-attributes', args.customAttributes);
  return spawnSync('aws', [...argv, outFile], { encoding: 'utf8', env: baseEnv({ AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }) });
}

/**
 * One InvokeEndpoint call made by boto3, as an application would. Returns what boto3 saw: the body, content type and
 * custom attributes, or the error code, HTTP status and the ModelError's OriginalStatusCode / OriginalMessage.
 */
export function boto3Invoke(
  url: string,
  endpoint: string,
  args: { target: string; body: string; contentType?: string; accept?: string; customAttributes?: string },
): any {
  const script = `
import boto3, json, sys
from botocore.config import Config
a = json.loads(sys.argv[1])
c = boto3.client('sagemaker-runtime', endpoint_url=a['url'], region_name='us-east-1', aws_access_key_id='testing',
                 aws_secret_access_key='testing', config=Config(retries={'max_attempts': 0}))
kw = dict(EndpointName=a['endpoint'], TargetModel=a['target'], Body=a['body'].encode())
for k, n in (('contentType', 'ContentType'), ('accept', 'Accept'), ('customAttributes', 'CustomAttributes')):
    if a.get(k) is not None: kw[n] = a[k]
try:
    r = c.invoke_endpoint(**kw)
    print(json.dumps({'ok': True, 'body': r['Body'].read().decode(), 'contentType': r.get('ContentType'), 'customAttributes': r.get('CustomAttributes')}))
except c.exceptions.ClientError as e:
    r = e.response
    print(json.dumps({'ok': False, 'code': r['Error'].get('Code'), 'status': r['ResponseMetadata']['HTTPStatusCode'],
                      'originalStatusCode': r.get('OriginalStatusCode'), 'originalMessage': r.get('OriginalMessage'), 'message': r['Error'].get('Message')}))
`;
  const r = spawnSync('python3', ['-c', script, JSON.stringify({ url, endpoint, ...args })], { encoding: 'utf8', env: baseEnv() });
  if (r.status !== 0) throw new Error(`boto3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
