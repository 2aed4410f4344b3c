/** Processes under code-server (the extension host's containai-rpc server), for the kill -9 step. */
import * as fs from 'node:fs';

/** Descendants of `root` (a process this script started) whose command line matches. */
export function descendants(root: number, match: RegExp): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      try {
        if (match.test(fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(c);
      } catch {
        // exited meanwhile
      }
      walk(c);
    }
  };
  walk(root);
  return out;
}

export function cmdline(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}
