/**
 * Runs the pinned helm and the strict validator (helm/tools/kube-validate) on helm/optfleet, and
 * parses what they render. `bash .ci/run` installs both under ~/.cache/optfleet-ci/bin.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from './cli.js';

export const CHART = join(REPO, 'helm/optfleet');
export const CI_CACHE = process.env['OPTFLEET_CI_CACHE'] ?? join(homedir(), '.cache/optfleet-ci');
export const HELM = process.env['OPTFLEET_HELM'] ?? (existsSync(join(CI_CACHE, 'bin/helm')) ? join(CI_CACHE, 'bin/helm') : 'helm');
export const KUBE_VALIDATE = join(CI_CACHE, 'bin/kube-validate');

/** The Kubernetes minor the chart is rendered for: the k8s.io/api the validator pins (v0.MINOR.x ↔ 1.MINOR). */
export function pinnedKubeVersion(): string {
  const gomod = readFileSync(join(REPO, 'helm/tools/kube-validate/go.mod'), 'utf8');
  const m = /\bk8s\.io\/api v0\.(\d+)\.\d+/.exec(gomod);
  if (m === null) throw new Error('helm/tools/kube-validate/go.mod does not pin k8s.io/api');
  return `1.${m[1]}.0`;
}

export interface Run {
  readonly status: number | null;
  readonly out: string;
}

/** helm output without its notices about the chart's symlinked files (files/ → deploy/, examples/). */
export function helm(args: readonly string[]): Run {
  const r = spawnSync(HELM, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error !== undefined)
    throw new Error(
      `helm cannot run (${r.error.message}): \`bash .ci/run\` installs it (go install helm.sh/helm/v3/cmd/helm@v3.19.5 into ~/.cache/optfleet-ci/bin), or set OPTFLEET_HELM`,
    );
  const strip = (s: string): string =>
    s
      .split('\n')
      .filter((l) => !/walk\.go:\d+: found symbolic link in path/.test(l))
      .join('\n');
  return { status: r.status, out: strip(r.stdout) + strip(r.stderr) };
}

export function valuesArgs(valuesFiles: readonly string[]): string[] {
  return ['--kube-version', pinnedKubeVersion(), ...valuesFiles.flatMap((f) => ['-f', f])];
}

export function template(valuesFiles: readonly string[], release = 'of'): Run {
  const r = spawnSync(HELM, ['template', release, CHART, '--namespace', 'jobs', ...valuesArgs(valuesFiles)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error !== undefined) return helm(['version']); // throws the install hint
  return { status: r.status, out: r.status === 0 ? r.stdout : r.stderr };
}

/** One rendered Kubernetes object with the template it came from. */
export interface K8sObject {
  readonly source: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly data?: Record<string, string>;
}

export function parseRendered(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const chunk of text.split(/^---$/m)) {
    const obj = parse(chunk) as Omit<K8sObject, 'source'> | null;
    if (obj === null) continue;
    out.push({ ...obj, source: /^# Source: (\S+)/m.exec(chunk)?.[1] ?? '?' });
  }
  return out;
}

export function validate(rendered: string): Run {
  const r = spawnSync(KUBE_VALIDATE, [], { input: rendered, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error !== undefined) throw new Error(`kube-validate cannot run (${r.error.message}): build it with deploy/ci/chart-tools.sh`);
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Builds kube-validate (go build; the Go build cache makes a rebuild quick). */
export function buildKubeValidate(): void {
  const r = spawnSync('go', ['build', '-o', KUBE_VALIDATE, '.'], {
    cwd: join(REPO, 'helm/tools/kube-validate'),
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-buildvcs=false' },
    timeout: 900_000,
  });
  if (r.error !== undefined) throw new Error(`go cannot run (${r.error.message}): kube-validate needs the Go toolchain (go ≥ 1.24)`);
  if (r.status !== 0) throw new Error(`go build helm/tools/kube-validate failed:\n${r.stderr}`);
}
