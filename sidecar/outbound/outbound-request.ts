import type { RequestInfo } from '../telemetry/request-observer.ts';
import type { RequestHead } from '../http1/request-head.ts';

/** One outbound request as telemetry sees it. */
export class OutboundRequest implements RequestInfo {
  readonly direction = 'outbound' as const;
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly sourcePrincipal: string | undefined;
  readonly destinationPrincipal: string | undefined;
  readonly service: string | undefined;
  readonly sourceIp: string;
  readonly destinationPort: number;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;
  readonly decision = undefined;
  readonly #head: RequestHead;

  constructor(head: RequestHead, path: string, self: string | undefined, destination: string, service: string, sourceIp: string, destinationPort: number) {
    this.method = head.method;
    this.path = path;
    this.host = head.host;
    this.sourcePrincipal = self;
    this.destinationPrincipal = destination;
    this.service = service;
    this.sourceIp = sourceIp;
    this.destinationPort = destinationPort;
    this.traceparent = head.traceparent;
    this.tracestate = head.tracestate;
    this.b3 = head.b3;
    this.#head = head;
  }

  header(name: string): string | undefined {
    return this.#head.header(name);
  }
}
