/**
 * A stand-in for Microsoft's Remote - SSH extension (`ms-vscode-remote.remote-ssh`), which
 * code-server cannot install: only its identity, so that "Open in Remote-SSH" takes the
 * path it takes when the real one is there (open the container's folder through the
 * `ssh-remote+<host>` authority), and the e2e sees which folder the editor was asked to open.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Packs the stand-in as a .vsix in `dir` (vsce from this package's devDependencies). */
export function packRemoteSshStub(dir: string, vsce: string): string {
  const src = path.join(dir, 'remote-ssh-stub');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(
    path.join(src, 'package.json'),
    JSON.stringify({ name: 'remote-ssh', displayName: 'Remote - SSH (e2e stand-in)', publisher: 'ms-vscode-remote', version: '0.0.1', license: 'MIT', engines: { vscode: '^1.82.0' }, repository: 'https://example.invalid/stub' }, null, 2),
  );
  fs.writeFileSync(path.join(src, 'README.md'), 'e2e stand-in\n');
  fs.writeFileSync(path.join(src, 'LICENSE'), 'MIT\n');
  const out = path.join(dir, 'remote-ssh-stub.vsix');
  cp.execFileSync(vsce, ['package', '--no-dependencies', '--out', out], { cwd: src, stdio: 'ignore' });
  return out;
}
