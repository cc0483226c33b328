import type { IncomingHttpHeaders } from 'node:http2';
import type { HeaderSource } from '../inbound/inbound-request.ts';
import { headerValue } from './h2-headers.ts';

/** HTTP/2 request headers seen through the same lookup as an HTTP/1.1 head. */
export class H2HeaderSource implements HeaderSource {
  readonly #headers: IncomingHttpHeaders;
  readonly host: string | undefined;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly b3: string | undefined;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
    this.host = headerValue(headers, ':authority') ?? headerValue(headers, 'host');
    this.traceparent = headerValue(headers, 'traceparent');
    this.tracestate = headerValue(headers, 'tracestate');
    this.b3 = headerValue(headers, 'b3');
  }

  header(name: string): string | undefined {
    return name.startsWith(':') ? undefined : headerValue(this.#headers, name);
  }
}
