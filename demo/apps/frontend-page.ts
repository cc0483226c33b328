import type { MeshCall } from '../mesh-call.ts';
import type { FrontendView } from './frontend-app.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function outcome(call: MeshCall): { label: string; cls: string } {
  if (call.status === null) return { label: `no answer (${call.error ?? 'error'})`, cls: 'err' };
  if (call.status >= 200 && call.status < 300) return { label: `${call.status} allowed`, cls: 'ok' };
  if (call.status === 403) return { label: '403 denied', cls: 'deny' };
  return { label: String(call.status), cls: 'err' };
}

function rows(calls: readonly MeshCall[], from: string, depth: number): string {
  return calls
    .map((call) => {
      const o = outcome(call);
      const indent = depth > 0 ? `<span class="via">${'&nbsp;&nbsp;'.repeat(depth)}&#8627; </span>` : '';
      return (
        `<tr class="${o.cls}"><td>${indent}${escapeHtml(from)} &rarr; ${escapeHtml(call.to)}</td>` +
        `<td><code>${escapeHtml(call.method)} ${escapeHtml(call.path)}</code></td>` +
        `<td>${escapeHtml(o.label)}</td>` +
        `<td><code>${escapeHtml(call.identity ?? '-')}</code></td>` +
        `<td><code>${escapeHtml(call.caller ?? '-')}</code></td>` +
        `<td>${escapeHtml(call.latencyMs.toFixed(1))} ms</td>` +
        `<td><code>${escapeHtml(call.error ?? '')}</code></td></tr>\n` +
        rows(call.calls, call.to, depth + 1)
      );
    })
    .join('');
}

/** The frontend's page: every value it shows came from the network, so every value is escaped. */
export function renderFrontendPage(view: FrontendView): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ztmesh demo: frontend</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-top: 1rem; }
th, td { text-align: left; padding: .35rem .7rem; border-bottom: 1px solid #ddd; vertical-align: top; }
tr.ok td:nth-child(3) { color: #0a7d32; font-weight: 600; }
tr.deny td:nth-child(3), tr.err td:nth-child(3) { color: #b3261e; font-weight: 600; }
code { font-size: 13px; } .via { color: #888; }
</style></head><body>
<h1>ztmesh demo: frontend</h1>
<p>This page is served by the <b>frontend</b> app (<code>${escapeHtml(view.identity)}</code>). For this page load it just made
these calls through its sidecar; each sidecar checked the other's SPIFFE identity over mutual TLS 1.3 and the callee's sidecar
authorized the request against the AuthorizationPolicies. <a href="/">Reload</a> to call again.</p>
<table><thead><tr><th>Call</th><th>Request</th><th>Outcome</th><th>Callee identity (as the callee reports it)</th>
<th>Caller identity (as the callee's sidecar verified it)</th><th>Latency</th><th>Sidecar error</th></tr></thead>
<tbody>
${rows(view.calls, 'frontend', 0)}</tbody></table>
</body></html>
`;
}
