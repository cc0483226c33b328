import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { errorCode } from '../errors/mesh-error.ts';

export interface WithSpanOptions {
  readonly kind?: 'internal' | 'server' | 'client';
  /** The parent: the context a surrounding `withSpan` handed its `fn`; a new trace when absent. */
  readonly parent?: Context;
}

const KINDS = { internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT } as const;

/**
 * Runs `fn` inside a span named `name` (the CA's issuance, the operator's admission and reconcile):
 * the span gets `attributes`, ends when `fn` settles, and on failure records the error's stable
 * code as `error.type` with an ERROR status (never the message, which may carry input). `fn`
 * receives the span's context: pass it as `parent` to nested calls (no global context manager is
 * installed, so nothing is implicit). With `tracer` undefined it just runs `fn`.
 */
export async function withSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  attributes: Attributes,
  fn: (context: Context) => Promise<T> | T,
  options: WithSpanOptions = {},
): Promise<T> {
  const parent = options.parent ?? ROOT_CONTEXT;
  if (tracer === undefined) return fn(parent);
  const span = tracer.startSpan(name, { kind: KINDS[options.kind ?? 'internal'], attributes }, parent);
  try {
    return await fn(trace.setSpan(parent, span));
  } catch (err) {
    span.setAttribute('error.type', errorCode(err));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
