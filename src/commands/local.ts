import { defineCommand } from './command.js';

export default defineCommand({
  name: 'local',
  summary: 'run a multi-model endpoint on this machine that mme, boto3 and the aws CLI can call offline',
  configure: (cmd) =>
    cmd
      .option('--port <port>', "port to listen on; 0 picks a free one (default: the fleet's endpointUrl port when it is this machine, else 8080)")
      .option('--host <address>', 'address to bind (anything but loopback exposes an unauthenticated endpoint)', '127.0.0.1')
      .option('--memory <size>', 'memory budget for loaded models (LRU unloads beyond it), e.g. 512MiB, 2GiB', '2GiB')
      .option('--disk <size>', 'disk budget for downloaded models (LRU deletes beyond it)', '10GiB')
      .option('--cache-dir <dir>', 'where downloaded models are extracted (default: ~/.cache/mme/local/<endpoint name>)')
      .option('--models-preload <names>', 'comma-separated models to load at start-up (requests are answered meanwhile; the ready line waits for them)')
      .option('--wait-limit <duration>', 'how long a request waits for a cold model before ModelNotReadyException (429)', '60s')
      .option('--load-limit <duration>', 'how long a model may take to download, extract and load before its load fails', '360s')
      .option('--workers <n>', 'scoring threads for large requests (0: score everything on the main thread)'),
  examples: [
    'mme local --prefix file://./fleet/',
    "mme invoke --endpoint-url http://127.0.0.1:8080 --endpoint-name local-mme --target m01.tar.gz --body '412.5,3,0.82,14,6,,1,5.3'",
    'curl -s http://127.0.0.1:8080/models',
    'mme local --fleet dev --memory 512MiB --models-preload m01.tar.gz,m02.tar.gz',
    'mme local --prefix s3://my-bucket/models/ --region eu-west-1 --port 0 --json',
  ],
  async run(ctx, _args, opts) {
    const { startLocalEndpoint } = await import('../local/start.js');
    await startLocalEndpoint(ctx, opts);
  },
});
