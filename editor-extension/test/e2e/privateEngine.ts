/**
 * A second Docker engine that answers, for the Run picker's steps: a private dockerd with
 * its own data and exec roots, in a network namespace of its own (a second dockerd in the
 * host's namespace fights the main one over docker0), holding only the tiny test image.
 * A context pointing at the main engine under another name would not do: the server would
 * list every container twice, and the workspace's container in "both" contexts makes the
 * next run ambiguous. Cost: about 0.2 s to start, 0.2 s to load the image, about a second
 * to stop (its containerd), at the end of the run.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { until } from './workbench';

function pidIn(file: string): number {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

export class PrivateEngine {
  private proc: cp.ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(
    readonly root: string,
    private readonly netns: string,
  ) {}

  get endpoint(): string {
    return `unix://${path.join(this.root, 'docker.sock')}`;
  }

  /** `docker` against this engine. */
  docker(...args: string[]): string {
    return cp.execFileSync('docker', ['-H', this.endpoint, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
  }

  /** Start it, wait until it answers, and give it `image` from the main engine. */
  async start(image: string): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true });
    cp.execFileSync('ip', ['netns', 'add', this.netns]);
    cp.execFileSync('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', 'lo', 'up']);
    const log = fs.openSync(path.join(this.root, 'dockerd.log'), 'w');
    const flags = ['--iptables=false', '--ip-masq=false', '--ip-forward=false', '--ip6tables=false'];
    // nsenter, not `ip netns exec`: that remounts /sys and hides the cgroups
    const proc = cp.spawn('nsenter', [`--net=/run/netns/${this.netns}`, 'dockerd', '--host', this.endpoint, '--data-root', path.join(this.root, 'data'), '--exec-root', path.join(this.root, 'exec'), '--pidfile', path.join(this.root, 'dockerd.pid'), ...flags], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await until('the private engine answers', () => proc.exitCode === null && this.docker('version', '-f', '{{.Server.Version}}') !== '', 30_000, 50);
    cp.execFileSync('sh', ['-c', `docker save "$1" | docker -H "$2" load -q`, 'sh', image, this.endpoint], { stdio: 'ignore', timeout: 60_000 });
  }

  /** Its containers, the daemon (and its containerd), its mounts, namespace and files: all gone. */
  async destroy(): Promise<void> {
    const proc = this.proc;
    if (proc) {
      this.proc = undefined;
      try {
        const ids = this.docker('ps', '-aq').split('\n').filter(Boolean);
        if (ids.length) this.docker('rm', '-f', ...ids);
      } catch {
        // it did not answer: stopping it ends its containers too
      }
      const containerdPid = pidIn(path.join(this.root, 'exec', 'containerd', 'containerd.pid'));
      proc.kill('SIGTERM');
      await this.exited;
      // dockerd stops its containerd, which runs in a session of its own
      if (containerdPid) await until('the private containerd gone', () => !fs.existsSync(`/proc/${containerdPid}`) || /\) Z /.test(fs.readFileSync(`/proc/${containerdPid}/stat`, 'utf8')), 30_000, 50);
    }
    for (const sub of ['exec', 'data']) cp.spawnSync('umount', ['-R', path.join(this.root, sub)], { stdio: 'ignore' });
    cp.spawnSync('ip', ['netns', 'delete', this.netns], { stdio: 'ignore' });
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
