/**
 * The chart's values as leaves (dotted paths), walked alongside values.schema.json: an object the
 * schema describes property by property is recursed into; anything else (scalars, lists, free-form
 * maps such as resources.requests or nodeSelector) is one leaf. Also a schema-respecting change
 * of each leaf, for the "no value goes unused" test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART } from './helm.js';

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

export type Values = Record<string, unknown>;

export const defaultValues = (): Values => parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Values;
export const valuesSchema = (): SchemaNode => JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Leaf {
  readonly path: string;
  readonly value: unknown;
  readonly schema: SchemaNode | undefined;
}

export function leaves(values: Values, schema: SchemaNode | undefined, prefix = ''): Leaf[] {
  const out: Leaf[] = [];
  for (const [k, v] of Object.entries(values)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    const s = schema?.properties?.[k];
    // The NATS chart's values are passed through whole (it has its own schema): recurse by shape.
    const passThrough = path === 'nats' || path.startsWith('nats.');
    if (isMap(v) && (s?.properties !== undefined || passThrough) && Object.keys(v).length > 0) {
      out.push(...leaves(v, passThrough && s?.properties === undefined ? { properties: {} } : s, path));
    } else out.push({ path, value: v, schema: s });
  }
  return out;
}

export function get(values: Values, path: string): unknown {
  let cur: unknown = values;
  for (const k of path.split('.')) cur = isMap(cur) ? cur[k] : undefined;
  return cur;
}

/** `{a: {b: value}}` for path `a.b`: an overlay values file. */
export function overlay(path: string, value: unknown): Values {
  const keys = path.split('.');
  let o: unknown = value;
  for (const k of keys.reverse()) o = { [k]: o };
  return o as Values;
}

export function deepMerge(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

/** Valid replacements for strings whose schema pattern a generic change would break. */
const STRING_CHANGES: Record<string, string> = {
  'externalNats.url': 'nats://other-nats:4222',
  'externalNats.monitoringEndpoint': 'other-nats:8222',
  'monitoring.serviceMonitor.interval': '45s',
  'monitoring.podMonitor.interval': '45s',
  'job.example': 'logistic-lbfgs.yaml',
  'job.id': 'another-id',
  'job.spec': 'name: changed\nseed: 1\n',
  'workers.gpu.driverCapabilities': 'compute,utility',
  'nats.config.jetstream.fileStore.pvc.size': '20Gi',
};

/** A different value the schema accepts. */
export function changed(leaf: Leaf, current: unknown): unknown {
  const s = leaf.schema;
  if (typeof current === 'boolean') return !current;
  if (typeof current === 'number') return s?.maximum !== undefined && current + 1 > s.maximum ? current - 1 : current + 1;
  if (current === null) return 30;
  if (typeof current === 'string') {
    const alt = s?.enum?.find((e) => e !== current);
    if (alt !== undefined) return alt;
    const fixed = STRING_CHANGES[leaf.path];
    if (fixed !== undefined) return fixed;
    const generic = current === '' ? 'changed' : `${current}x`;
    if (s?.pattern !== undefined && !new RegExp(s.pattern).test(generic))
      throw new Error(`${leaf.path}: no schema-valid change for "${current}": add one to STRING_CHANGES`);
    return generic;
  }
  if (Array.isArray(current))
    return [...(current as unknown[]), leaf.path === 'imagePullSecrets' ? { name: 'more' } : { key: 'k', operator: 'Exists' }];
  if (isMap(current)) return { ...current, 'optfleet-changed': 'x' };
  throw new Error(`${leaf.path}: cannot change a ${typeof current}`);
}
