/**
 * The shipped deploy files are valid as-is: Grafana dashboards (uid, schemaVersion, Prometheus
 * datasource variable used by every panel, unique panel ids), and the Prometheus alert rules and
 * scrape config (`promtool check rules` / `promtool check config`).
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
  panels: Array<{
    id: number;
    title: string;
    datasource: { type: string; uid: string };
    targets: Array<{ expr: string; datasource: { uid: string } }>;
  }>;
}

describe('deploy files', () => {
  for (const file of ['cluster-overview.json', 'job.json']) {
    it(`deploy/grafana/${file} is an importable dashboard`, async () => {
      const d = JSON.parse(await readFile(join(REPO, 'deploy/grafana', file), 'utf8')) as Dashboard;
      expect(d.uid).toMatch(/^optfleet-[a-z-]+$/);
      expect(d.uid.length).toBeLessThanOrEqual(40);
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      const ds = d.templating.list.find((v) => v.type === 'datasource');
      expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      for (const p of d.panels) {
        expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.targets.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets) expect(t.datasource.uid).toBe('${datasource}');
      }
      if (file === 'job.json') {
        expect(d.templating.list.map((v) => v.name)).toContain('job_id');
        for (const p of d.panels) for (const t of p.targets) expect(t.expr, p.title).toContain('job_id="$job_id"');
      }
    });
  }

  it('promtool accepts the alert rules and the scrape config', () => {
    const rules = spawnSync('promtool', ['check', 'rules', join(REPO, 'deploy/prometheus/rules.yml')], { encoding: 'utf8' });
    expect(rules.error, 'promtool missing: apt-get install -y prometheus').toBeUndefined();
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/SUCCESS: 5 rules found/);
    const config = spawnSync('promtool', ['check', 'config', join(REPO, 'deploy/prometheus/prometheus.yml')], { encoding: 'utf8' });
    expect(config.status, config.stdout + config.stderr).toBe(0);
  });
});
