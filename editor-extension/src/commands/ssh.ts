/** Open Shell, Open in Remote-SSH, Copy SSH Command: reaching a running container over ssh. */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { REMOTE_SSH_EXTENSION, remoteSshUri, shellJoin, sshArgv } from '../model/ssh';
import type { Deps } from './deps';
import { button, containerOf, resolveTarget } from './feedback';

function argvFor(host: string): string[] {
  return sshArgv(host, { home: process.env.HOME, loginHome: os.userInfo().homedir });
}

/** The host alias of the target's container when it can be reached now; else says why. */
function reachableHost(deps: Deps, arg: unknown): string | undefined {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  const c = containerOf(deps, t);
  if (!c) {
    void vscode.window.showWarningMessage('ContainAI: this workspace has no container yet. Run one first.');
    return undefined;
  }
  if (c.sshPort === undefined) {
    void vscode.window.showWarningMessage(`ContainAI: ${c.name} has no SSH endpoint (its image runs no sshd).`);
    return undefined;
  }
  if (c.status !== 'running') {
    void vscode.window.showWarningMessage(`ContainAI: ${c.name} is ${c.status}. Start it first.`);
    return undefined;
  }
  return c.name;
}

export async function openShell(deps: Deps, arg?: unknown): Promise<vscode.Terminal | undefined> {
  const host = reachableHost(deps, arg);
  if (!host) return undefined;
  const [shellPath, ...shellArgs] = argvFor(host);
  const term = vscode.window.createTerminal({ name: `ContainAI: ${host}`, shellPath, shellArgs });
  term.show();
  return term;
}

export async function openRemoteSsh(deps: Deps, arg?: unknown): Promise<void> {
  const host = reachableHost(deps, arg);
  if (!host) return;
  if (!vscode.extensions.getExtension(REMOTE_SSH_EXTENSION)) {
    const install = { id: 'install', title: 'Install Remote - SSH' };
    const b = await vscode.window.showWarningMessage(
      `ContainAI: "Open in Remote-SSH" needs Microsoft's Remote - SSH extension (${REMOTE_SSH_EXTENSION}), which is not installed in this editor. Install it from the Extensions view, or connect from a terminal with the SSH command.`,
      install,
      button('copySshCommand'),
    );
    if (b?.id === 'install') await vscode.commands.executeCommand('workbench.extensions.search', `@id:${REMOTE_SSH_EXTENSION}`);
    if (b?.id === 'copySshCommand') await copySshCommand(deps, arg);
    return;
  }
  const uri = remoteSshUri(host);
  deps.output.appendLine(`[containai] Open in Remote-SSH: ${uri}`);
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.parse(uri), { forceNewWindow: true });
}

export async function copySshCommand(deps: Deps, arg?: unknown): Promise<string | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  const c = containerOf(deps, t);
  if (!c) {
    void vscode.window.showWarningMessage('ContainAI: this workspace has no container yet.');
    return undefined;
  }
  const cmd = shellJoin(argvFor(c.name));
  await vscode.env.clipboard.writeText(cmd);
  void vscode.window.showInformationMessage(`ContainAI: copied "${cmd}".`);
  return cmd;
}
