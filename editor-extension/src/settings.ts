/** The extension's settings, read where they are used (no caching: they change live). */
import * as fs from 'node:fs';
import * as vscode from 'vscode';

export function workspacePath(): string | undefined {
  const p = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!p) return undefined;
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

export function dockerContext(): string | undefined {
  const v = vscode.workspace.getConfiguration('containai').get<string>('dockerContext');
  return v && v.trim().length > 0 ? v.trim() : undefined;
}

/** CPU/memory sampling interval and whether the status bar's text shows them too. */
export function resourceSettings(): { refreshMs: number; resourcesInText: boolean } {
  const cfg = vscode.workspace.getConfiguration('containai');
  const seconds = cfg.get<number>('resources.refreshSeconds') ?? 15;
  return { refreshMs: Math.max(2, seconds) * 1000, resourcesInText: cfg.get<boolean>('statusBar.showResources') ?? false };
}

export function stopOnWindowClose(): boolean {
  return vscode.workspace.getConfiguration('containai').get<boolean>('stopOnWindowClose') ?? false;
}
