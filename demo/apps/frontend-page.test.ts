import { describe, expect, it } from 'vitest';
import { wantsJson } from './frontend-app.ts';
import { escapeHtml, renderFrontendPage } from './frontend-page.ts';

describe('frontend page', () => {
  it('renders every network-supplied value as text, never markup', () => {
    const hostile = '<script>alert(1)</script>';
    const html = renderFrontendPage({
      service: 'frontend',
      identity: 'spiffe://example.org/ns/shop/sa/frontend',
      calls: [{ to: hostile, method: 'GET', path: `/orders"><img src=x onerror=alert(1)>`, status: 200, identity: hostile, caller: `'${hostile}`, latencyMs: 1.5, error: null, calls: [{ to: 'payments', method: 'POST', path: '/charge', status: 403, identity: null, caller: null, latencyMs: 2, error: hostile, calls: [] }] }],
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('403 denied');
  });

  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('serves JSON only when asked for it ahead of HTML', () => {
    expect(wantsJson('application/json')).toBe(true);
    expect(wantsJson('application/json, text/html')).toBe(true);
    expect(wantsJson('text/html,application/json')).toBe(false);
    expect(wantsJson('*/*')).toBe(false);
    expect(wantsJson(undefined)).toBe(false);
  });
});
