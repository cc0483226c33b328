/**
 * Makes untrusted text (paths, identities, log messages from child processes) safe to print on a
 * terminal: control characters, including ESC that starts terminal escape sequences, become \xNN,
 * and overly long values are cut.
 */
export function terminalSafe(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > max ? `${safe.slice(0, max)}...` : safe;
}

/** Colours a decision line's verdict for a terminal (green ALLOW, red DENY); other lines unchanged. */
export function colorVerdict(line: string): string {
  if (line.startsWith('ALLOW')) return `\x1b[32mALLOW\x1b[0m${line.slice(5)}`;
  if (line.startsWith('DENY')) return `\x1b[31mDENY\x1b[0m${line.slice(4)}`;
  return line;
}
