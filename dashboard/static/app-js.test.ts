import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// The page's script renders attacker-controlled text (identities, paths, reasons). The browser test
// proves a <script> path stays text; this keeps every HTML sink out of the script for good.
const source = (await readFile(new URL('./app.js', import.meta.url), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const html = await readFile(new URL('./index.html', import.meta.url), 'utf8');

describe('the dashboard page', () => {
  it.each(['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'createContextualFragment', 'DOMParser'])('its script never uses %s', (sink) => {
    expect(source).not.toContain(sink);
  });

  it('has no inline script or style and no inline event handler (the CSP forbids them anyway)', () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('guards its element builder against attributes that load or run code', () => {
    expect(source).toMatch(/refusing attribute/);
  });
});
