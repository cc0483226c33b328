import type { BenchResults } from './results.ts';

const FAMILY_COLOURS: Readonly<Record<string, string>> = {
  direct: '#9aa5b1', nginx: '#2f9e44', ztmesh: '#1c7ed6', 'node-tls-pipe': '#f08c00',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * bench/results/latest.svg: one group of horizontal bars per scenario (requests/s, or MB/s for the
 * 1 MiB scenario), one bar per available contender, each group scaled to its own largest bar.
 * Hand-written SVG, no chart library.
 */
export function renderSvg(results: BenchResults): string {
  const width = 900;
  const labelWidth = 260;
  const barMax = width - labelWidth - 130;
  const barHeight = 16;
  const gap = 4;
  const parts: string[] = [];
  let y = 40;
  for (const s of results.scenarios) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(`${s.id}: ${s.title}`)}</text>`);
    y += 8;
    const values = s.contenders.map((c) => (c.median === undefined ? undefined : s.headline === 'mbps' ? c.median.megabytesPerSecond : c.median.requestsPerSecond));
    const max = Math.max(1, ...values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
    s.contenders.forEach((c, i) => {
      const v = values[i];
      const top = y + gap;
      parts.push(`<text x="${labelWidth - 8}" y="${top + barHeight - 4}" text-anchor="end">${escapeXml(c.label)}</text>`);
      if (v === undefined || !Number.isFinite(v)) {
        parts.push(`<text x="${labelWidth}" y="${top + barHeight - 4}" fill="#868e96" font-style="italic">not available</text>`);
      } else {
        const w = Math.max(1, (v / max) * barMax);
        const unit = s.headline === 'mbps' ? 'MB/s' : 'req/s';
        parts.push(`<rect x="${labelWidth}" y="${top}" width="${w.toFixed(1)}" height="${barHeight}" fill="${FAMILY_COLOURS[c.family] ?? '#495057'}"/>`);
        parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${top + barHeight - 4}">${escapeXml(`${Math.round(v).toLocaleString('en-US')} ${unit}`)}</text>`);
      }
      y = top + barHeight;
    });
    y += 28;
  }
  const m = results.machine;
  const title = `ztmesh bench ${results.startedAt.slice(0, 16)}Z: ${m.nproc} × ${m.cpuModel}, node ${m.node}, nginx ${m.nginx}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
