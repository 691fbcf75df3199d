'use strict';
/**
 * The runtime inside one local execution environment: a child process of the function host.
 *
 * Plain CommonJS on purpose: it starts with `process.execPath` and no transpiler, so a cold start
 * costs one Node boot plus the bundle's own init, as on Lambda.
 *
 * Protocol (IPC, V8 serialization), parent → worker: `{ type: 'invoke', requestId, eventJson,
 * deadlineMs, invokedFunctionArn }`, where `eventJson` is the event as JSON text (parsed here, as
 * the Lambda runtime parses the body it fetches). Worker → parent: `{ type: 'ready', initDurationMs }` or
 * `{ type: 'init-error', error }` once; then per invocation `{ type: 'result', requestId, json }`
 * or `{ type: 'error', requestId, error }`. Before each reply the worker writes an end marker to
 * stdout and stderr so the host knows every log line of that invocation has arrived.
 *
 * Error payloads follow the Node.js runtime interface client (aws-lambda-nodejs-runtime-interface-client,
 * `Errors.js` `toRapidResponse` and `UserFunction.js`).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html
 */

const path = require('node:path');
const fs = require('node:fs');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

/** Must match END_MARKER in execution-environment.ts. */
const END_MARKER = '\u0000driverless-end:';

/** Lambda's synchronous response limit (6 MB), as the service reports it. */
const MAX_RESPONSE_BYTES = 6291556;

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerString = process.env._HANDLER ?? '';

/** @type {string | undefined} */
let currentRequestId;
/** @type {((error: unknown, done: () => void) => void) | undefined} */
let failCurrent;

class RuntimeError extends Error {
  /**
   * @param {string} name
   * @param {string} message
   */
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** Where Lambda puts the function's code and its runtime: what error payloads show instead of local paths. */
const LAMBDA_TASK_ROOT = '/var/task';
const LAMBDA_RUNTIME_DIR = '/var/runtime';

/**
 * Error payloads leave the machine's layout out, as on Lambda: the code directory reads as
 * `/var/task`, this runtime as `/var/runtime`, and a stack frame in any other file (the project,
 * the user's home, a global module) is dropped, so an Invoke error tells a caller nothing about
 * where the stack runs.
 */
function withoutLocalPaths(text) {
  return replaceDirectory(
    replaceDirectory(text, taskRoot, LAMBDA_TASK_ROOT),
    __dirname,
    LAMBDA_RUNTIME_DIR,
  );
}

function replaceDirectory(text, directory, replacement) {
  const url = pathToFileURL(directory).href;
  return text.split(url).join(`file://${replacement}`).split(directory).join(replacement);
}

/** A stack frame (`    at …`) that still names a file outside the function and the runtime. */
function isForeignFrame(line) {
  if (!/^\s+at /.test(line)) return false;
  const paths = line.match(/(?<=^|[\s(])(?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^\s():]*/g) ?? [];
  return paths.some(
    (found) =>
      ![LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR].some(
        (root) => found.startsWith(`${root}/`) || found.startsWith(`file://${root}/`),
      ),
  );
}

function traceOf(stack) {
  return withoutLocalPaths(stack)
    .split('\n')
    .filter((line) => !isForeignFrame(line));
}

/** The error object Lambda returns, as `toRapidResponse` shapes it. */
function toErrorPayload(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: withoutLocalPaths(error.message),
        trace: typeof error.stack === 'string' ? traceOf(error.stack) : [],
      };
    }
    return { errorType: typeof error, errorMessage: withoutLocalPaths(String(error)), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function isErrorLike(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.name === 'string' &&
    typeof value.message === 'string'
  );
}

function send(message, done) {
  // Markers first: pipes are written synchronously on Linux, so they precede the IPC reply.
  const marker = `${END_MARKER}${message.requestId ?? 'init'}\n`;
  process.stdout.write(marker);
  process.stderr.write(marker);
  if (message.requestId !== undefined) message.maxRssKb = process.resourceUsage().maxRSS;
  if (process.connected) process.send(message, undefined, {}, done);
  else done?.();
}

/**
 * Like the Lambda runtime, `console.*` writes one line per call in the text log format
 * (`timestamp\trequestId\tLEVEL\tmessage`), with newlines turned into carriage returns so a
 * multi-line message stays one log event.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 */
function patchConsole() {
  const levels = [
    ['log', 'INFO', process.stdout],
    ['info', 'INFO', process.stdout],
    ['debug', 'DEBUG', process.stdout],
    ['warn', 'WARN', process.stderr],
    ['error', 'ERROR', process.stderr],
    ['trace', 'TRACE', process.stderr],
  ];
  for (const [method, level, stream] of levels) {
    console[method] = (...args) => {
      const text = util.format(...args).replace(/\n/g, '\r');
      stream.write(
        `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${text}\n`,
      );
    };
  }
}

/** Splits `dir/file.export.nested` into the module path and the property path, as the runtime does. */
function parseHandler(handler) {
  const match = /^([^.]*\/)?([^./]+)\.(.+)$/.exec(handler);
  if (match === null) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  }
  return { modulePath: `${match[1] ?? ''}${match[2]}`, propertyPath: match[3].split('.') };
}

async function loadModule(root, modulePath) {
  const base = path.resolve(root, modulePath);
  const candidates = [`${base}.js`, `${base}.mjs`, `${base}.cjs`];
  const file = candidates.find((candidate) => fs.existsSync(candidate));
  if (file === undefined) {
    throw new RuntimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`,
    );
  }
  try {
    return file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    }
    if (error !== null && typeof error === 'object' && error.code === 'MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', `${error.name}: ${error.message}`);
    }
    throw error;
  }
}

async function loadHandler() {
  const { modulePath, propertyPath } = parseHandler(handlerString);
  const userModule = await loadModule(taskRoot, modulePath);
  let handler = userModule;
  for (const key of propertyPath) handler = handler?.[key];
  if (typeof handler !== 'function') {
    throw new RuntimeError(
      'Runtime.HandlerNotFound',
      `${modulePath}.${propertyPath.join('.')} is undefined or not exported`,
    );
  }
  return handler;
}

function createContext(message) {
  let callbackWaitsForEmptyEventLoop = true;
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    // The Node.js runtime gives the memory size as a string.
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: message.clientContext,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
    get callbackWaitsForEmptyEventLoop() {
      return callbackWaitsForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      callbackWaitsForEmptyEventLoop = value;
    },
  };
}

function serialize(result) {
  const json = JSON.stringify(result === undefined ? null : result);
  if (Buffer.byteLength(json) > MAX_RESPONSE_BYTES) {
    throw new RuntimeError(
      'Function.ResponseSizeTooLarge',
      `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
    );
  }
  return json;
}

/**
 * Calls the handler: async handlers settle their promise; callback handlers (three parameters,
 * no promise returned) call back. Whichever settles first wins, as in the runtime.
 */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    const returned = handler(event, context, callback);
    if (returned !== null && typeof returned?.then === 'function') {
      returned.then(resolve, reject);
    } else if (handler.length < 3) {
      resolve(returned);
    }
  });
}

async function main() {
  patchConsole();
  const started = process.hrtime.bigint();
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    send({ type: 'init-error', error: toErrorPayload(error) });
    return;
  }
  send({ type: 'ready', initDurationMs: Number(process.hrtime.bigint() - started) / 1e6 });

  process.on('message', async (message) => {
    if (message?.type !== 'invoke') return;
    const { requestId } = message;
    currentRequestId = requestId;
    let settled = false;
    const reply = (reply, done) => {
      if (settled) return done?.();
      settled = true;
      failCurrent = undefined;
      send(reply, done);
    };
    failCurrent = (error, done) =>
      reply({ type: 'error', requestId, error: toErrorPayload(error) }, done);
    try {
      const event = message.eventJson === undefined ? undefined : JSON.parse(message.eventJson);
      const result = await callHandler(handler, event, createContext(message));
      reply({ type: 'result', requestId, json: serialize(result) });
    } catch (error) {
      reply({ type: 'error', requestId, error: toErrorPayload(error) });
    }
  });
}

// The runtime treats an uncaught exception or unhandled rejection as fatal: it reports the error
// for the current invocation and the environment exits (the next invocation starts a new one).
function fatal(error, exitCode) {
  const exit = () => process.exit(exitCode);
  if (failCurrent === undefined) exit();
  else failCurrent(error, exit);
}
process.on('uncaughtException', (error) => fatal(error, 129));
process.on('unhandledRejection', (reason) => {
  const error = new RuntimeError(
    'Runtime.UnhandledPromiseRejection',
    `${reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)}`,
  );
  fatal(error, 128);
});
// No orphans: when the host goes away (exit, crash, kill -9), the IPC channel closes.
process.on('disconnect', () => process.exit(0));

main();
