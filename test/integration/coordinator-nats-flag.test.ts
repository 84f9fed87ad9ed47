/**
 * `optfleet coordinator --nats/--nats-prefix` (what the Helm chart passes, with the URL from
 * OPTFLEET_NATS_URL): bad values are usage errors naming the flag. The working path is run in
 * containers by container.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('optfleet coordinator --nats', () => {
  it('rejects a URL that is not nats:// or tls:// (exit 2, names --nats)', async () => {
    const r = await runCli(['coordinator', '--listen', '127.0.0.1:0', '--metrics-listen', 'off', '--nats', 'http://nats:4222']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--nats must be nats://host:port');
  });

  it('rejects a bad --nats-prefix (exit 2, names the flag and the allowed characters)', async () => {
    const r = await runCli(['coordinator', '--listen', '127.0.0.1:0', '--metrics-listen', 'off', '--nats-prefix', 'a.b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--nats-prefix must be 1-64 letters, digits, "_" or "-", got "a.b"');
  });

  it('lists --nats and --nats-prefix in its help', async () => {
    const r = await runCli(['coordinator', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--nats <url>[\s\S]*OPTFLEET_NATS_URL/);
    expect(r.stdout).toContain('--nats-prefix <prefix>');
  });
});
