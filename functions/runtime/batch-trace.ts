import { ENVIRONMENT } from './environment';

/**
 * One timed part of a batch in the trace: the batch itself, its decode, a stage, a job, the
 * delivery of dead letters. Without tracing every span is {@link NO_SPAN}, whose methods do
 * nothing, so an untraced batch pays a handful of empty calls and no allocation.
 */
export interface TraceSpan {
  child(name: string): TraceSpan;
  /** Indexed in X-Ray, so traces can be searched by it (`annotation.job = "orders"`). */
  annotate(key: string, value: string | number | boolean): void;
  fail(error: unknown): void;
  end(): void;
}

export const NO_SPAN: TraceSpan = Object.freeze({
  child: () => NO_SPAN,
  annotate: () => {},
  fail: () => {},
  end: () => {},
});

/** The parts of an X-Ray subsegment the runtime uses (`aws-xray-sdk-core`'s `Subsegment`). */
interface Subsegment {
  addNewSubsegment(name: string): Subsegment;
  addAnnotation(key: string, value: string | number | boolean): void;
  addError(error: Error | string): void;
  close(): void;
}

/** The parts of Powertools' `Tracer` the runtime uses. */
interface PowertoolsTracer {
  isTracingEnabled(): boolean;
  getSegment(): Subsegment | undefined;
}

// X-Ray accepts letters, digits, whitespace and `_.:/%&#=+\-@` in names, up to 200 characters.
const spanName = (name: string): string =>
  name.replace(/[^\p{L}\p{N}\s_.:/%&#=+\\\-@]/gu, '_').slice(0, 200);

class XraySpan implements TraceSpan {
  readonly #subsegment: Subsegment;
  readonly #parent: XraySpan | undefined;
  /** Children not yet ended: X-Ray sends a subsegment only once all of its children are closed. */
  readonly #open = new Set<XraySpan>();
  constructor(subsegment: Subsegment, parent?: XraySpan) {
    this.#subsegment = subsegment;
    this.#parent = parent;
  }
  child(name: string): TraceSpan {
    const child = new XraySpan(this.#subsegment.addNewSubsegment(spanName(name)), this);
    this.#open.add(child);
    return child;
  }
  annotate(key: string, value: string | number | boolean): void {
    this.#subsegment.addAnnotation(key, value);
  }
  fail(error: unknown): void {
    this.#subsegment.addError(error instanceof Error ? error : String(error));
  }
  /**
   * Ends the span and any child still open, as when the batch fails while a part of it runs: the
   * batch is sent with the parts it reached, not held back by one that never ended.
   */
  end(): void {
    for (const child of this.#open) child.end();
    if (this.#parent) this.#parent.#open.delete(this);
    this.#subsegment.close();
  }
}

/** Starts each batch's span under the invocation's X-Ray segment, when tracing is on. */
export interface BatchTracer {
  startBatch(): TraceSpan;
}

const UNTRACED: BatchTracer = { startBatch: () => NO_SPAN };

/**
 * The tracer of a handler: X-Ray through Powertools Tracer when the function has active tracing
 * (`tracing: true` on the pipeline sets `DRIVERLESS_TRACING`) and runs on Lambda, else one that
 * records nothing.
 *
 * Powertools Tracer, not OpenTelemetry: it writes to the X-Ray daemon Lambda runs beside every
 * traced function, so tracing needs no collector layer (which would add its own cold start) and
 * matches the Powertools logger and metrics the runtime already uses. It is required only when
 * tracing is on: the function bundle leaves it out otherwise, and untraced functions never load
 * the X-Ray SDK.
 */
export function batchTracerFromEnvironment(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): BatchTracer {
  // Lambda sets the daemon's address only in functions with active tracing; the embedded stack
  // sets none, so its functions neither load the X-Ray SDK nor have their HTTP calls patched.
  if (env[ENVIRONMENT.tracing] !== 'true' || env.AWS_XRAY_DAEMON_ADDRESS === undefined) {
    return UNTRACED;
  }
  const { Tracer } = require('@aws-lambda-powertools/tracer') as {
    Tracer: new (options: { serviceName: string }) => PowertoolsTracer;
  };
  const tracer = new Tracer({ serviceName });
  if (!tracer.isTracingEnabled()) return UNTRACED;
  return {
    startBatch() {
      // An invocation without trace data (the embedded stack sends none) has nothing to add to;
      // asking the X-Ray SDK anyway would log an error per batch.
      if (traceHeader(env) === undefined) return NO_SPAN;
      const segment = tracer.getSegment();
      return segment === undefined
        ? NO_SPAN
        : new XraySpan(segment.addNewSubsegment('driverless batch'));
    },
  };
}

/** The invocation's X-Ray trace header: Lambda's invoke store on newer runtimes, else the variable. */
function traceHeader(env: NodeJS.ProcessEnv): string | undefined {
  const store = (
    globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?(): string | undefined } } }
  ).awslambda?.InvokeStore;
  return store?.getXRayTraceId?.() ?? env._X_AMZN_TRACE_ID;
}
