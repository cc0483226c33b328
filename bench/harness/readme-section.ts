export const RESULTS_START = '<!-- bench:results:start -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/**
 * The README with the text between the results markers replaced by `content`; the README unchanged
 * when it lacks either marker (someone removed them on purpose).
 */
export function replaceResultsSection(readme: string, content: string): string {
  const start = readme.indexOf(RESULTS_START);
  const end = readme.indexOf(RESULTS_END);
  if (start === -1 || end === -1 || end < start) return readme;
  return `${readme.slice(0, start + RESULTS_START.length)}\n${content.trim()}\n${readme.slice(end)}`;
}
