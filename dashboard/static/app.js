// The ztmesh dashboard page. Every value shown comes from the mesh (identities, paths, policy
// names, header-derived text are attacker-controlled), so the DOM is built with createElement and
// text nodes only: no innerHTML, no attribute whose value could be a URL or script.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  let view = null;

  /** An element with safe attributes (class, data-*, geometry) and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    return fill(node, attrs, children);
  }

  function svg(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG, tag), attrs, children);
  }

  function fill(node, attrs, children) {
    for (const [k, v] of Object.entries(attrs || {})) {
      // Never an attribute that loads or runs something: the values here may come from the mesh.
      if (/^(on|href$|src$|xlink:|style$|srcdoc$|action$|formaction$)/i.test(k)) throw new Error(`refusing attribute ${k}`);
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function replace(id, ...nodes) {
    document.getElementById(id).replaceChildren(...nodes);
  }

  function empty(text) {
    return el('p', { class: 'empty' }, text);
  }

  function table(headers, rows, attrs) {
    return el('table', Object.assign({ class: 'data' }, attrs),
      el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows));
  }

  function shortName(id) {
    if (typeof id !== 'string') return 'unknown';
    const m = /\/sa\/([^/]+)$/.exec(id);
    return m ? m[1] : id;
  }

  function time(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
  }

  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    if (d > 0) return `${d}d ${h}h ${m}m`;
    if (h > 0) return `${h}h ${m}m ${sec}s`;
    return `${m}m ${sec}s`;
  }

  /** A padlock drawn with shapes (no emoji font needed), its top-left corner at x, y; 10 × 12. */
  function lockShape(x, y) {
    return svg('g', { class: 'lock-icon', transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` },
      svg('path', { d: 'M2.5,5 V3.5 a2.5,2.5 0 0 1 5,0 V5', class: 'lock-shackle' }),
      svg('rect', { x: 0.5, y: 5, width: 9, height: 7, rx: 1.5, class: 'lock-body' }));
  }

  function lockBadge() {
    return svg('svg', { viewBox: '0 0 10 13', width: 10, height: 13, class: 'lock-inline', 'aria-hidden': 'true' }, lockShape(0, 0.5));
  }

  // ---- service graph -------------------------------------------------------------------------

  function verdictOf(e) {
    if (e.denied > 0 && e.allowed > 0) return 'mixed';
    if (e.denied > 0) return 'denied';
    if (e.allowed > 0) return 'allowed';
    return 'undecided';
  }

  function renderGraph(graph) {
    const nodes = graph.nodes;
    if (nodes.length === 0) {
      replace('graph', empty('No workloads yet: none of the sidecars could be read. Check the --from admin addresses and that the sidecars run (served by the operator: no sidecar has reported yet).'));
      return;
    }
    const W = 640;
    const H = 440;
    const R = 34;
    const cx = W / 2;
    const cy = H / 2;
    const ring = Math.min(W, H) / 2 - 70;
    const pos = new Map();
    nodes.forEach((n, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
      pos.set(n.id, nodes.length === 1 ? { x: cx, y: cy } : { x: cx + ring * Math.cos(a), y: cy + ring * Math.sin(a) });
    });
    const defs = svg('defs', {}, ...['allowed', 'denied', 'undecided'].map((k) =>
      svg('marker', { id: `arrow-${k}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow-${k}` }))));
    const edgeLayer = svg('g', { class: 'edges' });
    for (const e of graph.edges) {
      const a = pos.get(e.source);
      const b = pos.get(e.destination);
      if (!a || !b) continue;
      const verdict = verdictOf(e);
      const group = svg('g', { class: `edge ${verdict}`, 'data-source': e.source, 'data-destination': e.destination, 'data-verdict': verdict });
      group.append(svg('title', {}, `${shortName(e.source)} → ${shortName(e.destination)}: ${e.allowed} allowed, ${e.denied} denied, ${e.undecided} without decision; mutual TLS`));
      const parts = [];
      if (e.allowed > 0) parts.push(['allowed', e.allowed]);
      if (e.denied > 0) parts.push(['denied', e.denied]);
      if (parts.length === 0) parts.push(['undecided', e.undecided]);
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len = Math.hypot(dx, dy) || 1;
      const ux = dx / len;
      const uy = dy / len;
      // Parallel strokes when a pair has both allowed and denied calls; a slight bend separates A→B from B→A.
      parts.forEach(([kind, count], i) => {
        const off = 6 + (i - (parts.length - 1) / 2) * 8;
        const ox = -uy * off;
        const oy = ux * off;
        const x1 = a.x + ux * R + ox;
        const y1 = a.y + uy * R + oy;
        const x2 = b.x - ux * (R + 4) + ox;
        const y2 = b.y - uy * (R + 4) + oy;
        group.append(svg('path', { class: `edge-line ${kind}`, d: `M${x1.toFixed(1)},${y1.toFixed(1)} L${x2.toFixed(1)},${y2.toFixed(1)}`, 'marker-end': `url(#arrow-${kind})` }));
        const lx = (x1 + x2) / 2 + ox * 1.6;
        const ly = (y1 + y2) / 2 + oy * 1.6;
        const sign = kind === 'allowed' ? '✓' : kind === 'denied' ? '✗' : '?';
        const label = `${sign} ${count} ${kind}`;
        group.append(lockShape(lx - label.length * 3.3 - 14, ly - 10));
        group.append(svg('text', { class: `edge-label ${kind}`, x: lx.toFixed(1), y: ly.toFixed(1), 'text-anchor': 'middle' }, label));
      });
      edgeLayer.append(group);
    }
    const nodeLayer = svg('g', { class: 'nodes' });
    for (const n of nodes) {
      const p = pos.get(n.id);
      nodeLayer.append(svg('g', { class: n.polled ? 'node' : 'node unpolled', 'data-identity': n.id },
        svg('title', {}, n.polled ? n.id : `${n.id} (its sidecar is not polled)`),
        svg('circle', { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: R }),
        svg('text', { x: p.x.toFixed(1), y: (p.y + 4).toFixed(1) }, n.label),
        svg('text', { class: 'id', x: p.x.toFixed(1), y: (p.y + R + 14).toFixed(1) }, n.id)));
    }
    const picture = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Service graph' }, defs, edgeLayer, nodeLayer);
    replace('graph', picture);
  }

  function renderEdges(graph) {
    const body = document.querySelector('#edges tbody');
    if (graph.edges.length === 0) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No calls seen yet. Send traffic through the mesh (in the demo: open http://127.0.0.1:8080/) and the edges appear here.')));
      return;
    }
    body.replaceChildren(...graph.edges.map((e) => {
      const verdict = verdictOf(e);
      return el('tr', { 'data-source': e.source, 'data-destination': e.destination, 'data-verdict': verdict },
        el('td', {}, shortName(e.source), el('div', { class: 'mono' }, e.source)),
        el('td', {}, shortName(e.destination), el('div', { class: 'mono' }, e.destination)),
        el('td', {}, e.allowed > 0 ? el('span', { class: 'badge ok' }, `${e.allowed} allowed`) : '0'),
        el('td', {}, e.denied > 0 ? el('span', { class: 'badge deny' }, `${e.denied} denied`) : '0'),
        el('td', {}, String(e.undecided)),
        el('td', {}, String(e.errors)),
        el('td', {}, e.mtls ? lockBadge() : null, e.mtls ? ' mTLS' : 'plaintext'));
    }));
  }

  // ---- tables ----------------------------------------------------------------------------------

  function renderDenials(denials) {
    if (denials === null) {
      replace('denials', empty('The sidecars do not serve /debug/decisions (an older sidecar version): denials cannot be listed.'));
      return;
    }
    if (denials.length === 0) {
      replace('denials', empty('No denials so far. A request refused by a policy or a sidecar check shows up here with its reason.'));
      return;
    }
    const rows = denials.map((d) => {
      const why = d.policy !== null ? `policy ${d.policy}${d.rule !== null ? ` rule ${d.rule}` : ''}: ${d.reason}` : d.reason;
      return el('tr', { class: 'denial' },
        el('td', {}, time(d.time)),
        el('td', {}, shortName(d.caller), ' → ', shortName(d.destination), el('div', { class: 'mono' }, d.caller === null ? 'no verified caller' : d.caller)),
        el('td', { class: 'mono' }, d.method),
        el('td', { class: 'mono path' }, d.path),
        el('td', {}, el('span', { class: 'badge deny' }, String(d.status)), ' ', why),
        el('td', { class: 'mono' }, d.code === null ? '' : d.code),
        el('td', {}, d.reportedBy));
    });
    replace('denials', table(['Time', 'Caller → callee', 'Method', 'Path', 'Why', 'Code', 'Reported by'], rows, { id: 'denials-table' }));
  }

  function renderInventory(inventory) {
    if (inventory === null) {
      replace('inventory', empty('No API inventory: these sidecars do not serve /inventory (it comes with the sidecars\' API inventory feature).'));
      return;
    }
    const nodes = [];
    if (inventory.apis.length === 0) nodes.push(empty('No API calls observed yet. Send traffic through the mesh and the routes appear here.'));
    else {
      nodes.push(table(['Service', 'Method', 'Route', 'Callers', 'Calls', 'Last seen', 'Sensitive fields', 'Declared'], inventory.apis.map((a) =>
        el('tr', { class: 'api' },
          el('td', {}, a.service),
          el('td', { class: 'mono' }, a.method),
          el('td', { class: 'mono route' }, a.route),
          el('td', {}, ...a.callers.map((c) => el('div', { class: 'mono' }, c))),
          el('td', {}, String(a.count)),
          el('td', {}, time(a.lastSeen)),
          el('td', {}, a.sensitive.length === 0 ? '—' : el('span', { class: 'badge warn' }, a.sensitive.join(', '))),
          el('td', {}, a.declared ? 'yes' : el('span', { class: 'badge warn' }, 'no (shadow API)')))), { id: 'inventory-table' }));
    }
    for (const z of inventory.zombies) nodes.push(el('p', { class: 'zombie' }, `Zombie: ${z.service} ${z.method} ${z.route} is declared but was never called.`));
    replace('inventory', ...nodes);
  }

  function renderAnomalies(anomalies) {
    if (anomalies === null) {
      replace('anomalies', empty('Anomaly detection is not available from these sidecars (turn it on with anomaly.enabled in the sidecar config).'));
      return;
    }
    if (anomalies.length === 0) {
      replace('anomalies', empty('No anomalies: every caller behaves like its learned baseline.'));
      return;
    }
    replace('anomalies', table(['Time', 'Caller', 'Kind', 'Route', 'What deviated', 'Reported by'], anomalies.map((a) =>
      el('tr', { class: 'anomaly' },
        el('td', {}, a.time === undefined ? '' : time(a.time)),
        el('td', { class: 'mono' }, a.caller),
        el('td', {}, el('span', { class: 'badge deny' }, a.kind)),
        el('td', { class: 'mono' }, `${a.method ?? ''} ${a.route ?? ''}`),
        el('td', {}, a.measure === undefined ? '' : `${a.measure}: ${a.observed} vs baseline ${a.baseline}${a.deviation === undefined ? '' : ` (×${Number(a.deviation).toFixed(1)})`}`),
        el('td', {}, a.reportedBy)))));
  }

  function renderWorkloads(workloads) {
    if (workloads.length === 0) {
      replace('workloads', empty('No sidecars configured: start the dashboard with --from ADMIN_ADDR,...'));
      return;
    }
    replace('workloads', table(['Workload', 'SPIFFE ID', 'Admin port or pod', 'Certificate expires in', 'Serial', 'State'], workloads.map((w) => {
      const cert = w.certificate;
      const expiry = cert === null ? el('span', {}, 'no SVID yet') : el('span', { class: 'countdown', 'data-not-after': cert.notAfter }, '');
      const state = w.error !== null ? el('span', { class: 'badge deny', title: w.error.message }, `unreachable: ${w.error.code}`) : el('span', { class: 'badge ok' }, 'read OK');
      return el('tr', { class: 'workload' },
        el('td', {}, w.name),
        el('td', { class: 'mono' }, w.identity === null ? '—' : w.identity),
        el('td', { class: 'mono' }, w.admin),
        el('td', {}, expiry),
        el('td', { class: 'mono' }, cert === null ? '—' : cert.serial),
        el('td', {}, state, w.error !== null ? el('div', { class: 'mono' }, w.error.message) : null));
    }), { id: 'workloads-table' }));
    tick();
  }

  /** Certificate countdowns, every second, from notAfter (never from a server-rendered string). */
  function tick() {
    for (const node of document.querySelectorAll('.countdown')) {
      const left = Date.parse(node.getAttribute('data-not-after')) - Date.now();
      node.textContent = Number.isNaN(left) ? 'unknown' : left <= 0 ? 'EXPIRED' : duration(left);
      node.className = left <= 0 ? 'countdown badge deny' : left < 10 * 60 * 1000 ? 'countdown badge warn' : 'countdown badge ok';
    }
  }

  function render(next) {
    view = next;
    if (view === null) return;
    renderGraph(view.graph);
    renderEdges(view.graph);
    renderDenials(view.denials);
    renderInventory(view.inventory);
    renderAnomalies(view.anomalies);
    renderWorkloads(view.workloads);
    document.body.setAttribute('data-generated-at', view.generatedAt);
    setStatus('live', `Live · updated ${time(view.generatedAt)} · ${view.workloads.length} sidecar(s)`);
  }

  function setStatus(kind, text) {
    const s = document.getElementById('status');
    s.className = `status ${kind}`;
    s.textContent = text;
  }

  function connect() {
    fetch('/api/mesh', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then(render)
      .catch((err) => setStatus('down', `Cannot read the dashboard API (${err.message}).`));
    if (typeof EventSource === 'function') {
      const events = new EventSource('/api/events');
      events.addEventListener('mesh', (e) => render(JSON.parse(e.data)));
      events.addEventListener('error', () => setStatus('down', 'Connection to the dashboard lost; retrying…'));
    } else {
      setInterval(() => fetch('/api/mesh').then((r) => r.json()).then(render).catch(() => setStatus('down', 'Connection lost; retrying…')), 2000);
    }
    setInterval(tick, 1000);
  }

  connect();
})();
