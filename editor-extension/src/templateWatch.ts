/**
 * Re-lists the containers when something may have made one outdated, which the server only
 * finds out when asked: a template's Dockerfile written (a file watcher on the server's
 * templates folder), or the window regaining the focus (an edit made elsewhere, a base image
 * pulled meanwhile).
 */
import * as vscode from 'vscode';
import { serverLaunch } from './model/serverCommand';
import { templatesDir } from './model/templates';
import { readServerSettings } from './server';

const SETTLE_MS = 300;

export function watchTemplates(relist: () => Promise<void>): vscode.Disposable {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void relist();
    }, SETTLE_MS);
  };
  const subs: vscode.Disposable[] = [vscode.window.onDidChangeWindowState((s) => s.focused && soon())];
  const dir = templatesDir(serverLaunch(readServerSettings(), process.env).env);
  if (dir) {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '*/Dockerfile'));
    subs.push(watcher, watcher.onDidChange(soon), watcher.onDidCreate(soon), watcher.onDidDelete(soon));
  }
  return {
    dispose: () => {
      if (timer) clearTimeout(timer);
      for (const s of subs) s.dispose();
    },
  };
}
