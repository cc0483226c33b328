import { defineCodes } from '../../core/errors/code-registry.ts';

export const rateLimitCodes = defineCodes('RATELIMIT', {
  ZTMESH_RATELIMIT_EXCEEDED: 'A request exceeded its token bucket (per source principal and route, or per source IP); answered 429 with Retry-After.',
});
