import { z } from 'zod';

/** Config: `inbound.bodyLimits`, path prefix -> the largest request body accepted there. */
export const bodyLimitSchema = z.strictObject({
  /** Covers this path and everything below it ("/upload" covers "/upload" and "/upload/x", not "/uploads"). */
  pathPrefix: z.string().regex(/^\/[^\s?#]*$/, 'must be a path starting with "/"'),
  maxBodyBytes: z.int().min(0),
});

export type BodyLimit = z.output<typeof bodyLimitSchema>;

/**
 * Per-route request body limits, checked against the normalized path: the longest matching prefix
 * wins, and a path no prefix covers keeps the listener-wide `limits.maxBodyBytes`, which stays the
 * ceiling (raise it for upload routes and lower every other path with a `/` entry). Built once;
 * `limitFor` is a short scan of a list sorted longest prefix first.
 */
export class BodyLimits {
  readonly #limits: readonly BodyLimit[];

  constructor(limits: readonly BodyLimit[]) {
    this.#limits = [...limits].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  }

  /** The body limit for `path`, or `fallback` when no prefix covers it. */
  limitFor(path: string, fallback: number): number {
    const limits = this.#limits;
    for (let i = 0; i < limits.length; i++) {
      const p = limits[i]!.pathPrefix;
      if (path === p || (path.startsWith(p) && (p.endsWith('/') || path.charCodeAt(p.length) === 0x2f))) return limits[i]!.maxBodyBytes;
    }
    return fallback;
  }
}
