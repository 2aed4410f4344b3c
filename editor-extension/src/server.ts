/**
 * Starting the containai-rpc server with vscode-languageclient over stdio, and restarting
 * it when it dies.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type Message,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { PROTOCOL_VERSION, type ContainaiInitializationOptions, type ServerCapabilities } from './protocol';
import { serverLaunch, type ServerSettings } from './model/serverCommand';

export const CLIENT_ID = 'containai';
export const CLIENT_NAME = 'ContainAI Server';

/** Restart on every crash, with a back-off; give up after 5 crashes within 3 minutes. */
class RestartingErrorHandler implements ErrorHandler {
  private readonly crashes: number[] = [];
  constructor(private readonly onGiveUp: (msg: string) => void) {}

  error(_error: Error, _message: Message | undefined, count: number | undefined): ErrorHandlerResult {
    // a transport write/read error: keep the connection unless it keeps failing
    return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0]! > 3 * 60_000) this.crashes.shift();
    if (this.crashes.length > 5) {
      const msg = 'The containai-rpc server stopped 5 times in the last 3 minutes and will not be restarted.';
      this.onGiveUp(msg);
      return { action: CloseAction.DoNotRestart, message: msg, handled: true };
    }
    return { action: CloseAction.Restart, handled: true };
  }
}

export function readServerSettings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration('containai');
  return {
    serverCommand: cfg.get<string | string[]>('serverCommand'),
    pythonPath: cfg.get<string>('pythonPath'),
    serverEnv: cfg.get<Record<string, string>>('serverEnv'),
    sharedServer: cfg.get<boolean>('sharedServer'),
  };
}

export function createClient(outputChannel: vscode.OutputChannel, onGiveUp: (msg: string) => void): LanguageClient {
  const settings = readServerSettings();
  const launch = serverLaunch(settings, process.env);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  outputChannel.appendLine(`[containai] server: ${[launch.command, ...launch.args].join(' ')}`);
  const serverOptions: ServerOptions = {
    command: launch.command,
    args: launch.args,
    // no `transport`: stdio without vscode-languageclient appending a `--stdio` argument
    options: { env: launch.env, cwd: folder },
  };
  // a shared server resolves the workspace against the client's directory, which it is told
  const cwd = settings.sharedServer && folder ? { cwd: folder } : {};
  const initializationOptions: ContainaiInitializationOptions = { containai: { protocolVersion: PROTOCOL_VERSION, ...cwd } };
  const clientOptions: LanguageClientOptions = {
    // no documents: this server manages containers, not a language
    documentSelector: [],
    initializationOptions,
    outputChannel,
    revealOutputChannelOn: 4 /* RevealOutputChannelOn.Never */,
    errorHandler: new RestartingErrorHandler(onGiveUp),
    connectionOptions: { maxRestartCount: 1000 },
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}

export function serverCapabilities(client: LanguageClient): ServerCapabilities | undefined {
  const experimental = client.initializeResult?.capabilities.experimental as { containai?: ServerCapabilities } | undefined;
  return experimental?.containai;
}

export { State };
