import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';

/**
 * Pods as network namespaces, for tests that do what the kubelet does with an injected pod: a
 * bridge in the host namespace (the "node"), and one namespace per pod joined to it by a veth pair.
 * Commands run in a pod with `ip netns exec`, as a given UID with `setpriv` (no capabilities).
 */
export function canRunNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    for (const [bin, arg] of [['ip', '-V'], ['iptables-restore', '--version'], ['setpriv', '--version']] as const) execFileSync(bin, [arg], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sh(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function asUser(uid: number | undefined, gid: number | undefined, args: string[]): string[] {
  return uid === undefined ? args : ['setpriv', `--reuid=${uid}`, `--regid=${gid ?? uid}`, '--clear-groups', ...args];
}

export class NetnsBridge {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly #pods: NetnsPod[] = [];

  /** `subnet` is the first three octets, e.g. "10.235.7": the bridge is .254, pods get .1, .2, ... */
  constructor(tag: string, subnet: string) {
    this.name = `ztb${tag}`;
    this.subnet = subnet;
    this.gateway = `${subnet}.254`;
    sh(['ip', 'link', 'add', this.name, 'type', 'bridge']);
    sh(['ip', 'addr', 'add', `${this.gateway}/24`, 'dev', this.name]);
    sh(['ip', 'link', 'set', this.name, 'up']);
  }

  addPod(name: string): NetnsPod {
    const pod = new NetnsPod(this, name, `${this.subnet}.${this.#pods.length + 1}`, this.#pods.length);
    this.#pods.push(pod);
    return pod;
  }

  destroy(): void {
    for (const pod of this.#pods) pod.destroy();
    try {
      sh(['ip', 'link', 'del', this.name]);
    } catch {
      // already gone
    }
  }
}

export class NetnsPod {
  readonly ns: string;
  readonly ip: string;
  readonly #children: ChildProcess[] = [];

  constructor(bridge: NetnsBridge, name: string, ip: string, index: number) {
    this.ns = `${bridge.name}-${name}`;
    this.ip = ip;
    const host = `${bridge.name}h${index}`;
    const inner = `${bridge.name}p${index}`;
    sh(['ip', 'netns', 'add', this.ns]);
    sh(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
    sh(['ip', 'link', 'set', inner, 'netns', this.ns]);
    sh(['ip', 'link', 'set', host, 'master', bridge.name]);
    sh(['ip', 'link', 'set', host, 'up']);
    this.exec(['ip', 'link', 'set', 'lo', 'up']);
    this.exec(['ip', 'addr', 'add', `${ip}/24`, 'dev', inner]);
    this.exec(['ip', 'link', 'set', inner, 'up']);
    this.exec(['ip', 'route', 'add', 'default', 'via', bridge.gateway]);
  }

  /** Runs a command to completion in the pod; throws with its stderr when it fails. */
  exec(args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): string {
    try {
      return execFileSync('ip', ['netns', 'exec', this.ns, ...asUser(options.uid, options.gid, args)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
      });
    } catch (err) {
      const e = err as { status?: number; stderr?: string };
      throw new Error(`in ${this.ns}: ${args.join(' ')} exited ${e.status}: ${e.stderr}`, { cause: err });
    }
  }

  /** Like exec(), without blocking the test's event loop (for steps that may run side by side). */
  run(args: string[], options: { uid?: number; gid?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', this.ns, ...asUser(options.uid, options.gid, args)], { encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`in ${this.ns}: ${args.join(' ')} failed: ${stderr}`, { cause: err }));
        else resolve(stdout);
      });
    });
  }

  /** Starts a long-running process in the pod; it is killed by destroy(). */
  spawn(args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, ...asUser(options.uid, options.gid, args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    child.on('error', () => {});
    this.#children.push(child);
    return child;
  }

  destroy(): void {
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      sh(['ip', 'netns', 'del', this.ns]);
    } catch {
      // already gone
    }
  }
}
