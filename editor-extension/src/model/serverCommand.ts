/**
 * How to start the server from the settings. No `vscode` import.
 *
 *   containai.serverCommand  "containai-rpc" (default) or a path; string or [cmd, ...args]
 *   containai.pythonPath     an interpreter with the package installed → `<python> -m containai_rpc`
 *   containai.serverEnv      extra environment variables for the server
 *   containai.sharedServer   `--remote auto`: forward stdio to the user's shared server
 *                            (started if needed) instead of a server of this window's own
 */
export interface ServerSettings {
  serverCommand?: string | string[];
  pythonPath?: string;
  serverEnv?: Record<string, string | number | boolean | null>;
  sharedServer?: boolean;
}

/** The server's argument that makes it a relay to the shared server (`containai-rpc --listen`). */
export const SHARED_SERVER_ARGS = ['--remote', 'auto'];

export interface ServerLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export function serverLaunch(settings: ServerSettings, baseEnv: NodeJS.ProcessEnv): ServerLaunch {
  const launch = ownServerLaunch(settings, baseEnv);
  return settings.sharedServer ? { ...launch, args: [...launch.args, ...SHARED_SERVER_ARGS] } : launch;
}

function ownServerLaunch(settings: ServerSettings, baseEnv: NodeJS.ProcessEnv): ServerLaunch {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(settings.serverEnv ?? {})) {
    if (v === null) delete env[k];
    else env[k] = String(v);
  }
  // stdout carries only protocol; make Python's stderr logs arrive promptly
  env.PYTHONUNBUFFERED ??= '1';

  const cmd = settings.serverCommand;
  const fromCommand = Array.isArray(cmd) ? cmd.filter((s) => s.length > 0) : typeof cmd === 'string' && cmd.trim().length > 0 ? [cmd.trim()] : [];
  // an explicit serverCommand other than the default wins over pythonPath
  if (fromCommand.length > 0 && !(fromCommand.length === 1 && fromCommand[0] === 'containai-rpc' && settings.pythonPath)) {
    return { command: fromCommand[0]!, args: fromCommand.slice(1), env };
  }
  if (settings.pythonPath && settings.pythonPath.trim().length > 0) {
    return { command: settings.pythonPath.trim(), args: ['-m', 'containai_rpc'], env };
  }
  return { command: 'containai-rpc', args: [], env };
}
