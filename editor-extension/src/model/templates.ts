/**
 * Where the server finds its templates, so the extension can notice an edit. No `vscode` import.
 * `outdated` is computed when containers are listed, never pushed: a Dockerfile edit has to
 * trigger a re-list here.
 */
import * as path from 'node:path';

/** `$XDG_CONFIG_HOME/containai/templates` (else `~/.config/…`) in the server's environment. */
export function templatesDir(env: Record<string, string | undefined>): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : env.HOME ? path.join(env.HOME, '.config') : undefined;
  return base ? path.join(base, 'containai', 'templates') : undefined;
}
