/**
 * A small stand-in for the `vscode` module: what the views and the commands use, with
 * enough recording for assertions (`calls`) and scripted answers to questions (`answers`).
 * Installed by `register-vscode.ts`.
 */
export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  fired = 0;
  readonly event = (listener: (e: T) => void): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    this.fired++;
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class MarkdownString {
  constructor(public value: string = '') {}
}

export class TreeItem {
  id?: string;
  description?: string;
  iconPath?: ThemeIcon;
  tooltip?: string | MarkdownString;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  accessibilityInformation?: { label: string };
  constructor(
    public label: string,
    public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export interface FakeStatusBarItem {
  id: string;
  alignment: StatusBarAlignment;
  priority: number;
  name?: string;
  text: string;
  tooltip?: string;
  command?: string;
  backgroundColor?: ThemeColor;
  accessibilityInformation?: { label: string };
  visible: boolean;
  disposed: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export const createdStatusBarItems: FakeStatusBarItem[] = [];

/** Everything the commands did through the stand-in, in order. */
export const calls: Array<{ fn: string; args: unknown[] }> = [];

/**
 * What the next question answers, by function: a function of the question's arguments
 * returning the picked item (or undefined: dismissed). Unscripted questions are dismissed.
 */
export const answers: Record<string, (...args: unknown[]) => unknown> = {};

/** Registered command handlers, by id. */
export const registered = new Map<string, (...args: unknown[]) => unknown>();
export const clipboard = { text: '' };
export const installedExtensions = new Set<string>();

export function resetStub(): void {
  calls.length = 0;
  for (const k of Object.keys(answers)) delete answers[k];
  registered.clear();
  clipboard.text = '';
  installedExtensions.clear();
}

function record(fn: string, args: unknown[]): unknown {
  calls.push({ fn, args });
  return answers[fn]?.(...args);
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum ViewColumn {
  Active = -1,
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
    private readonly raw: string,
  ) {}
  static parse(s: string): Uri {
    return new Uri(s.split(':')[0] ?? '', '', s);
  }
  static file(p: string): Uri {
    return new Uri('file', p, `file://${p}`);
  }
  toString(): string {
    return this.raw;
  }
}

export class CancellationTokenSource {
  cancelled = false;
  readonly token = { isCancellationRequested: false, onCancellationRequested: (): Disposable => new Disposable() };
}

export const env = {
  clipboard: {
    async writeText(t: string): Promise<void> {
      record('clipboard.writeText', [t]);
      clipboard.text = t;
    },
    async readText(): Promise<string> {
      return clipboard.text;
    },
  },
};

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown): Disposable {
    registered.set(id, fn);
    return new Disposable(() => registered.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    record('executeCommand', [id, ...args]);
    return registered.get(id)?.(...args);
  },
};

export const extensions = {
  getExtension(id: string): unknown {
    return installedExtensions.has(id) ? { id } : undefined;
  },
};

export const workspace = {
  getConfiguration(): { get<T>(key: string): T | undefined } {
    return { get: () => undefined };
  },
};

const windowState = { focused: true };
const windowStateEmitter = new EventEmitter<{ focused: boolean }>();

export function setWindowFocused(focused: boolean): void {
  windowState.focused = focused;
  windowStateEmitter.fire({ focused });
}

export const window = {
  state: windowState,
  onDidChangeWindowState: windowStateEmitter.event,
  async showInformationMessage(...args: unknown[]): Promise<unknown> {
    return record('showInformationMessage', args);
  },
  async showWarningMessage(...args: unknown[]): Promise<unknown> {
    return record('showWarningMessage', args);
  },
  async showErrorMessage(...args: unknown[]): Promise<unknown> {
    return record('showErrorMessage', args);
  },
  async showInputBox(...args: unknown[]): Promise<unknown> {
    return record('showInputBox', args);
  },
  async showQuickPick(...args: unknown[]): Promise<unknown> {
    return record('showQuickPick', args);
  },
  async showSaveDialog(...args: unknown[]): Promise<unknown> {
    return record('showSaveDialog', args);
  },
  createTerminal(options: unknown): { show(): void; options: unknown } {
    record('createTerminal', [options]);
    return { options, show: () => undefined };
  },
  async withProgress<T>(options: { title: string }, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<T>): Promise<T> {
    record('withProgress', [options]);
    const src = new CancellationTokenSource();
    return task({ report: (v) => record('progress.report', [v]) }, src.token);
  },
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): FakeStatusBarItem {
    const item: FakeStatusBarItem = {
      id,
      alignment,
      priority,
      text: '',
      visible: false,
      disposed: false,
      show() {
        item.visible = true;
      },
      hide() {
        item.visible = false;
      },
      dispose() {
        item.disposed = true;
      },
    };
    createdStatusBarItems.push(item);
    return item;
  },
};
