import { describe, expect, it } from 'vitest';
import { replaceResultsSection, RESULTS_END, RESULTS_START } from './readme-section.ts';

describe('replaceResultsSection', () => {
  it('replaces only what lies between the markers', () => {
    const readme = `# Bench\n${RESULTS_START}\nold table\n${RESULTS_END}\nafter\n`;
    expect(replaceResultsSection(readme, 'new table\n')).toBe(`# Bench\n${RESULTS_START}\nnew table\n${RESULTS_END}\nafter\n`);
  });
  it('leaves a README without markers alone', () => {
    expect(replaceResultsSection('# Bench\n', 'x')).toBe('# Bench\n');
  });
});
