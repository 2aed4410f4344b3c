/**
 * The server's hints speak protocol (`fresh`, `allowReducedIsolation`, doctor);
 * the editor says them with its commands and buttons.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { describeError, editorHint } from '../../src/model/errors';

const failed = (reason: string, hint?: string) => describeError({ code: -32803, message: 'No.', data: { reason, hint } }, 'Run');

describe('editor phrasing of server hints', () => {
  it('offers Fresh where the server says a fresh run recreates the container', () => {
    for (const reason of ['volumeMismatch', 'unexpectedState']) {
      const e = failed(reason, 'A fresh run recreates it.');
      assert.match(e.message, /^Run failed: No\. Use Fresh to recreate/);
      assert.deepEqual(e.actions, ['fresh']);
    }
    const key = failed('hostKeyChanged', 'If you recreated the container outside ContainAI, recreate it with a fresh run (or remove the old entry); otherwise …');
    assert.match(key.message, /outside ContainAI, use Fresh \(or remove/);
    assert.deepEqual(key.actions, ['fresh']);
  });
  it('names the Doctor command, not a param or the CLI', () => {
    const iso = failed('isolationUnavailable', 'Install Sysbox (doctor shows what is missing), or opt in with allowReducedIsolation or [isolation] allow_reduced = true.');
    assert.doesNotMatch(iso.message, /allowReducedIsolation|cai /);
    assert.match(iso.message, /Run ContainAI: Doctor/);
    assert.equal(
      editorHint('engineUnavailable', 'Start the Docker daemon (or check the context), then run doctor.'),
      'Start the Docker daemon (or check the context), then run ContainAI: Doctor.',
    );
    assert.match(failed('portsExhausted', 'Remove unused containers (stop with remove, or gc) …').message, /Stop and Remove, Garbage Collect/);
  });
  it('keeps the server hint for other reasons', () => {
    assert.equal(editorHint('imageNotFound', 'Build it with scripts/images.sh.'), 'Build it with scripts/images.sh.');
    assert.equal(editorHint(undefined, undefined), undefined);
  });
});
