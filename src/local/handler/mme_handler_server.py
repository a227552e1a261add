#!/usr/bin/env python3
"""mme's handler runner: a multi-model serving container in one file, standard library only.

`mme local --handler inference.py [--python PATH]` runs this file with the user's Python. It speaks the multi-model
container contract (GET /ping; POST /models {"model_name","url"}; GET /models[?next_page_token=&limit=];
GET /models/{name}; DELETE /models/{name}; POST /models/{name}/invoke) and runs the user's SageMaker-toolkit style
handler for each model:

    model_fn(model_dir) -> model
    input_fn(body, content_type) -> data          # body is str for text/csv and application/json, else bytes
    predict_fn(data, model) -> prediction
    output_fn(prediction, accept) -> body | (body, content_type)
    transform_fn(model, body, content_type, accept) -> body | (body, content_type)   # instead of the three above

with the defaults the SageMaker inference toolkit has for what is missing (sagemaker_inference.transformer and
default_inference_handler): input_fn decodes application/json, text/csv and application/x-npy (numpy arrays when
numpy is importable, else lists), output_fn encodes to the Accept type, model_fn and predict_fn have no default;
a missing Accept or */* is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (application/json); a function may take one more
argument, the request context. An exception with a `status_code` (the toolkit's BaseInferenceToolkitError) sets the
answer's status; any other is a 500 whose body is the message and the traceback, as the toolkit answers.

Each model runs in its own process (this file with --worker): a predict_fn that hangs, crashes or leaks for one
model stops neither /ping nor the other models, and unloading a model gives its memory back. A model process that
died is started again (model_fn runs again) on the model's next request.
"""
import argparse
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
UTF8_TYPES = (JSON, CSV)
ANY = "*/*"

# ---- framing between the server and a model process: 4-byte header length, 4-byte body length, header, body ----


def write_frame(out, header, body=b""):
    h = json.dumps(header).encode("utf-8")
    out.write(struct.pack(">II", len(h), len(body)))
    out.write(h)
    if body:
        out.write(body)
    out.flush()


def read_exact(inp, n):
    chunks = []
    while n:
        chunk = inp.read(n)
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(inp):
    hl, bl = struct.unpack(">II", read_exact(inp, 8))
    header = json.loads(read_exact(inp, hl).decode("utf-8"))
    body = read_exact(inp, bl) if bl else b""
    return header, body


# ---- the toolkit's defaults --------------------------------------------------------------------------------------


class UnsupportedFormatError(Exception):
    """As sagemaker_inference.errors.UnsupportedFormatError (a 500: it is not a BaseInferenceToolkitError)."""

    def __init__(self, content_type):
        super().__init__(
            "Content type %s is not supported by this framework.\n\n"
            "            Please implement input_fn to to deserialize the request data or an output_fn to\n"
            "            serialize the response. For more information, see the SageMaker Python SDK README." % content_type
        )


def _numpy():
    try:
        import numpy  # noqa: F401

        return numpy
    except ImportError:
        return None


def default_model_fn(model_dir):
    raise NotImplementedError(
        "\nPlease provide a model_fn implementation.\nSee documentation for model_fn at https://sagemaker.readthedocs.io/en/stable/\n"
    )


def default_input_fn(input_data, content_type):
    np = _numpy()
    if content_type == JSON:
        data = json.loads(input_data)
        return np.array(data) if np else data
    if content_type == CSV:
        if np:
            return np.genfromtxt(io.StringIO(input_data), delimiter=",")
        rows = [[float(v) for v in line.split(",")] for line in input_data.strip().splitlines() if line.strip()]
        return rows[0] if len(rows) == 1 else rows
    if content_type == NPY and np:
        return np.load(io.BytesIO(input_data), allow_pickle=True)
    raise UnsupportedFormatError(content_type)


def default_predict_fn(data, model):
    raise NotImplementedError(
        "\nPlease provide a predict_fn implementation.\nSee documentation for predict_fn at https://sagemaker.readthedocs.io/en/stable/\n"
    )


def _tolist(x):
    return x.tolist() if hasattr(x, "tolist") else x


def default_output_fn(prediction, accept):
    np = _numpy()
    if accept == JSON:
        return json.dumps(prediction, default=lambda o: o.tolist() if hasattr(o, "tolist") else json.JSONEncoder().default(o)), accept
    if accept == CSV:
        if np:
            stream = io.StringIO()
            np.savetxt(stream, prediction, delimiter=",", fmt="%s")
            return stream.getvalue(), accept
        rows = _tolist(prediction)
        if not isinstance(rows, (list, tuple)):
            rows = [rows]
        lines = [",".join(str(v) for v in (r if isinstance(r, (list, tuple)) else [r])) for r in rows]
        return "\n".join(lines) + "\n", accept
    if accept == NPY and np:
        buffer = io.BytesIO()
        np.save(buffer, prediction)
        return buffer.getvalue(), accept
    raise UnsupportedFormatError(accept)


# ---- a model process ---------------------------------------------------------------------------------------------


class Context:
    """The little of the toolkit's context a handler may use: system and request properties, response headers."""

    def __init__(self, model_dir):
        self.system_properties = {"model_dir": model_dir, "gpu_id": None}
        self.request_properties = {}
        self.response_headers = {}

    def get_request_header(self, idx, key):
        return self.request_properties.get(key)

    def set_response_header(self, key, value):
        self.response_headers[key] = value

    def set_response_content_type(self, idx, value):
        self.response_headers["Content-Type"] = value


def load_user_module(handler):
    directory = os.path.dirname(os.path.abspath(handler))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(handler))[0]
    spec = importlib.util.spec_from_file_location(name, handler)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Handler:
    """The transformer of the toolkit: the user's functions, or the defaults."""

    def __init__(self, module, context):
        self.context = context
        self.model_fn = getattr(module, "model_fn", default_model_fn)
        transform_fn = getattr(module, "transform_fn", None)
        input_fn = getattr(module, "input_fn", None)
        predict_fn = getattr(module, "predict_fn", None)
        output_fn = getattr(module, "output_fn", None)
        if transform_fn and (input_fn or predict_fn or output_fn):
            raise ValueError("Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or output_fn implementation")
        self.transform_fn = transform_fn or self.default_transform_fn
        self.input_fn = input_fn or default_input_fn
        self.predict_fn = predict_fn or default_predict_fn
        self.output_fn = output_fn or default_output_fn

    def call(self, func, *args):
        import inspect

        n = len(inspect.signature(func).parameters)
        if n == len(args):
            return func(*args)
        if n == len(args) + 1:
            return func(*(args + (self.context,)))
        raise TypeError("{} takes {} arguments but {} were given.".format(func.__name__, n, len(args)))

    def default_transform_fn(self, model, input_data, content_type, accept, context=None):
        data = self.call(self.input_fn, input_data, content_type)
        prediction = self.call(self.predict_fn, data, model)
        return self.call(self.output_fn, prediction, accept)


def error_answer(e):
    status = getattr(e, "status_code", None)
    if not isinstance(status, int):
        status = 500
    message = getattr(e, "message", None) or str(e) or type(e).__name__
    return {"status": status, "message": "{}\n{}".format(message, traceback.format_exc())}


def worker_main(handler_path, model_dir):
    # The protocol runs over a private copy of stdout; whatever the handler prints goes to stderr (the log).
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = os.fdopen(0, "rb")
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)
    context = Context(model_dir)
    try:
        handler = Handler(load_user_module(handler_path), context)
        model = handler.call(handler.model_fn, model_dir)
    except MemoryError as e:
        write_frame(out, {"status": 507, "message": "model_fn ran out of memory: {}".format(e)})
        return
    except BaseException as e:  # noqa: B902 - anything model_fn raises fails the load, with its traceback
        answer = error_answer(e)
        answer["status"] = 500
        write_frame(out, answer)
        return
    write_frame(out, {"status": 200})
    while True:
        try:
            header, body = read_frame(inp)
        except EOFError:
            return
        content_type = (header.get("content_type") or "").split(";")[0].strip() or None
        accept = header.get("accept")
        if not accept or accept == ANY:
            accept = default_accept
        context.request_properties = header.get("headers", {})
        context.response_headers = {}
        try:
            data = body.decode("utf-8") if content_type in UTF8_TYPES else body
            result = handler.call(handler.transform_fn, model, data, content_type, accept)
            response_type = accept
            if isinstance(result, tuple):
                result, response_type = result[0], result[1]
            if isinstance(result, str):
                result = result.encode("utf-8")
            elif not isinstance(result, (bytes, bytearray)):
                result = json.dumps(result, default=_tolist).encode("utf-8")
            headers = context.response_headers
            write_frame(out, {"status": 200, "content_type": headers.get("Content-Type", response_type),
                              "custom_attributes": headers.get("X-Amzn-SageMaker-Custom-Attributes")}, bytes(result))
        except Exception as e:  # noqa: B902
            write_frame(out, error_answer(e))


# ---- the server --------------------------------------------------------------------------------------------------


class ModelProcess:
    """One model's process. Requests to one model go one at a time (its lock); other models are not held up."""

    def __init__(self, name, url, handler, python):
        self.name, self.url, self.handler, self.python = name, url, handler, python
        self.lock = threading.Lock()
        self.proc = None

    def start(self):
        """Starts the process and runs model_fn. Returns None, or (status, message) when the load failed."""
        self.proc = subprocess.Popen([self.python, os.path.abspath(__file__), "--worker", self.handler, self.url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None)
        try:
            header, _ = read_frame(self.proc.stdout)
        except EOFError:
            code = self.proc.wait()
            return 500, "the model's process exited (code {}) while model_fn ran".format(code)
        if header["status"] != 200:
            self.stop()
            return header["status"], header.get("message", "")
        return None

    def invoke(self, body, content_type, accept, headers):
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                # It died on an earlier request: start it again (model_fn runs again).
                failed = self.start()
                if failed:
                    return failed[0], {"message": failed[1]}, None
            try:
                write_frame(self.proc.stdin, {"content_type": content_type, "accept": accept, "headers": headers}, body)
                header, out = read_frame(self.proc.stdout)
            except (EOFError, BrokenPipeError, OSError):
                code = self.proc.wait()
                self.proc = None
                return 500, {"message": "the model's process exited (code {}) while handling the request".format(code)}, None
            return header["status"], header, out

    def stop(self):
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            proc.kill()
            proc.wait()


class Registry:
    def __init__(self, handler, python):
        self.handler, self.python = handler, python
        self.models = {}
        self.loading = set()
        self.lock = threading.Lock()


class ContractHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mme-handler-server"
    disable_nagle_algorithm = True  # headers and body are written apart: no 40 ms delayed-ACK stall between them
    registry = None  # set in main()

    def log_message(self, fmt, *args):  # access log off: the endpoint keeps its own
        pass

    def send(self, status, doc=None, body=None, content_type=JSON, extra=None):
        if body is None:
            body = json.dumps(doc if doc is not None else {}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            if v is not None:
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, message):
        self.send(status, {"code": status, "type": {404: "ModelNotFoundException", 409: "ConflictStatusException", 507: "InsufficientMemoryException"}.get(status, "InternalServerException"), "message": message})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        return segments, parse_qs(parts.query)

    def do_GET(self):
        segments, query = self.route()
        reg = self.registry
        if segments == ["ping"]:
            return self.send(200, {"status": "Healthy"})
        if segments == ["models"]:
            with reg.lock:
                names = sorted(reg.models)
            limit = int((query.get("limit") or ["100"])[0])
            start = int((query.get("next_page_token") or ["0"])[0])
            page = names[start:start + limit]
            doc = {"models": [{"modelName": n, "modelUrl": reg.models[n].url} for n in page if n in reg.models]}
            if start + limit < len(names):
                doc["nextPageToken"] = str(start + limit)
            return self.send(200, doc)
        if len(segments) == 2 and segments[0] == "models":
            m = reg.models.get(segments[1])
            if m is None:
                return self.error(404, "Model not found: {}".format(segments[1]))
            return self.send(200, [{"modelName": m.name, "modelUrl": m.url, "workers": [{"status": "READY" if m.proc and m.proc.poll() is None else "UNLOADED"}]}])
        self.error(404, "Resource not found")

    def do_DELETE(self):
        segments, _ = self.route()
        self.read_body()
        reg = self.registry
        if len(segments) == 2 and segments[0] == "models":
            with reg.lock:
                m = reg.models.pop(segments[1], None)
            if m is None:
                return self.error(404, "Model not found: {}".format(segments[1]))
            with m.lock:
                m.stop()
            return self.send(200, {"status": "Model \"{}\" unregistered".format(m.name)})
        self.error(404, "Resource not found")

    def do_POST(self):
        segments, _ = self.route()
        body = self.read_body()
        reg = self.registry
        if segments == ["models"]:
            try:
                doc = json.loads(body or b"{}")
                name, url = doc["model_name"], doc["url"]
            except (ValueError, KeyError, TypeError):
                return self.error(400, 'Expected a JSON body {"model_name": ..., "url": ...}')
            if not os.path.isdir(url):
                return self.error(404, "Model folder not found: {}".format(url))
            with reg.lock:
                if name in reg.models or name in reg.loading:
                    return self.error(409, "Model {} is already loaded".format(name))
                reg.loading.add(name)
            try:
                m = ModelProcess(name, url, reg.handler, reg.python)
                failed = m.start()
                if failed:
                    return self.error(failed[0], failed[1])
                with reg.lock:
                    reg.models[name] = m
            finally:
                with reg.lock:
                    reg.loading.discard(name)
            return self.send(200, {"status": "Model \"{}\" loaded".format(name)})
        if len(segments) == 3 and segments[0] == "models" and segments[2] == "invoke":
            m = reg.models.get(segments[1])
            if m is None:
                return self.error(404, "Model not found: {}".format(segments[1]))
            headers = {"Content-Type": self.headers.get("Content-Type"), "Accept": self.headers.get("Accept"),
                       "X-Amzn-SageMaker-Custom-Attributes": self.headers.get("X-Amzn-SageMaker-Custom-Attributes")}
            status, header, out = m.invoke(body, self.headers.get("Content-Type"), self.headers.get("Accept"), headers)
            if status != 200:
                return self.send(status, body=header.get("message", "").encode("utf-8"), content_type="text/plain")
            return self.send(200, body=out, content_type=header.get("content_type") or JSON,
                             extra={"X-Amzn-SageMaker-Custom-Attributes": header.get("custom_attributes")})
        self.error(404, "Resource not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def watch_parent(server):
    """Stops the server when the mme local that started it is gone (killed without a chance to stop it)."""
    pid = int(os.environ.get("MME_LOCAL_PID") or 0)
    if not pid:
        return

    def watch():
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                for m in list(ContractHandler.registry.models.values()):
                    m.stop()
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, daemon=True).start()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker_main(sys.argv[2], sys.argv[3])
    p = argparse.ArgumentParser(description="mme's multi-model server for a SageMaker-toolkit style handler")
    p.add_argument("--handler", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")))
    args = p.parse_args()
    handler = os.path.abspath(args.handler)
    # Import it once here: a syntax error shows at start, not at the first load.
    load_user_module(handler)
    ContractHandler.registry = Registry(handler, sys.executable)
    server = Server((args.host, args.port), ContractHandler)
    watch_parent(server)
    print("mme handler server: {} on {}:{} (python {})".format(handler, args.host, args.port, sys.version.split()[0]), file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        for m in list(ContractHandler.registry.models.values()):
            m.stop()


if __name__ == "__main__":
    main()
