/**
 * The ssh command line that reaches a container: `ssh <name>`, with the host alias the
 * server writes to ~/.ssh/containai.d. ssh reads the config of the login (passwd) home, not
 * `$HOME`, so when the two differ the server's own rule adds `-F $HOME/.ssh/config` (the
 * command `run` returns in `ssh.command` is built the same way). No `vscode` import.
 */
export interface Homes {
  /** `$HOME` of the extension host (the server inherits it) */
  home: string | undefined;
  /** the login home from the passwd database */
  loginHome: string;
}

export function sshArgv(host: string, homes: Homes): string[] {
  const home = homes.home?.replace(/\/+$/, '');
  if (home && home !== homes.loginHome.replace(/\/+$/, '')) return ['ssh', '-F', `${home}/.ssh/config`, host];
  return ['ssh', host];
}

/** POSIX-shell quoting of an argv, for a command a person pastes. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The Remote-SSH folder URI for a host: the container's workspace folder. */
export function remoteSshUri(host: string): string {
  return `vscode-remote://ssh-remote+${encodeURIComponent(host)}/home/agent/workspace`;
}

export const REMOTE_SSH_EXTENSION = 'ms-vscode-remote.remote-ssh';
