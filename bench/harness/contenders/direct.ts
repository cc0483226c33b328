import type { ContenderSpec } from '../contender.ts';

/** (a) The client talks to the app itself: the baseline for "added latency". */
export const direct: ContenderSpec = {
  id: 'direct',
  label: 'direct (no proxy)',
  family: 'direct',
  start: (env, kind) => Promise.resolve({ port: env.appPorts[kind], proxies: [], stop: () => Promise.resolve() }),
};
