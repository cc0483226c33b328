import type { IncomingHttpHeaders } from 'node:http2';
import type { RequestInfo } from '../telemetry/request-observer.ts';
import type { ServiceTarget } from '../outbound/service-table.ts';
import { headerValue } from './h2-headers.ts';

/** One outbound HTTP/2 stream as telemetry sees it. */
export class OutboundH2Request implements RequestInfo {
  readonly direction = 'outbound' as const;
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly sourcePrincipal: string | undefined;
  readonly destinationPrincipal: string;
  readonly service: string;
  readonly sourceIp: string;
  readonly destinationPort: number;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;
  readonly decision = undefined;
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders, path: string, self: string | undefined, target: ServiceTarget, sourceIp: string) {
    this.#headers = headers;
    this.method = headerValue(headers, ':method') ?? '';
    this.path = path;
    this.host = headerValue(headers, ':authority');
    this.sourcePrincipal = self;
    this.destinationPrincipal = target.identity;
    this.service = target.name;
    this.sourceIp = sourceIp;
    this.destinationPort = target.endpoints[0]?.port ?? 0;
    this.traceparent = headerValue(headers, 'traceparent');
    this.tracestate = headerValue(headers, 'tracestate');
    this.b3 = headerValue(headers, 'b3');
  }

  header(name: string): string | undefined {
    return name.startsWith(':') ? undefined : headerValue(this.#headers, name);
  }
}
