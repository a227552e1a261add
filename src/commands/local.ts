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
      .option('--workers <n>', 'scoring threads for large requests (0: score everything on the main thread)')
      .option(
        '--default-accept <type>',
        "the Accept a request without one (or with */*) gets, as the container's SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
        'application/json',
      )
      .option('--container-url <url>', 'serve the models with a running multi-model container (the MME contract: /ping, /models, /models/{name}/invoke)')
      .option(
        '--container-cmd <command>',
        'start a multi-model container with this shell command; placeholders {port} {host} {model_dir} {container_model_dir} {log}',
      )
      .option('--container-model-dir <dir>', 'the model folder as the container sees it (e.g. /opt/ml/models under docker -v {model_dir}:/opt/ml/models)')
      .option('--container-start-limit <duration>', 'how long a started container may take to answer GET /ping', '120s')
      .option('--invoke-limit <duration>', 'how long the container may take to answer an invocation before ModelError (424), as SageMaker', '60s')
      .option(
        '--handler <file>',
        "serve the models with a SageMaker-toolkit style inference.py (model_fn, input_fn, predict_fn, output_fn or transform_fn) run by mme's Python server",
      )
      .option('--python <path>', 'the Python that runs --handler (your environment, with your libraries)')
      .option(
        '--check',
        "test the container (--container-url, --container-cmd or --handler) against the multi-model contract with the first artifact under the prefix (or --models-preload's first): a pass/fail table, exit 4 on failures",
      )
      .option('--check-body <text>', 'with --check: a request body the model answers 2xx to (text/csv)'),
  examples: [
    'mme local --prefix file://./fleet/',
    "mme invoke --endpoint-url http://127.0.0.1:8080 --endpoint-name local-mme --target m01.tar.gz --body '412.5,3,0.82,14,6,,1,5.3'",
    'curl -s http://127.0.0.1:8080/models',
    'mme local --fleet dev --memory 512MiB --models-preload m01.tar.gz,m02.tar.gz',
    'mme local --prefix s3://my-bucket/models/ --region eu-west-1 --port 0 --json',
  ],
  async run(ctx, _args, opts) {
    const { startLocalEndpoint } = await import('../local/start.js');
    return startLocalEndpoint(ctx, opts);
  },
});
