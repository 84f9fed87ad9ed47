#!/usr/bin/env node
// Committed launcher so npm can link the `optfleet` bin before the first build; the CLI itself is
// compiled TypeScript in ../dist (run `npm run build` first).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('optfleet: not built yet: run `npm run build` in the repository root\n');
  process.exit(2);
}
await import(main.href);
