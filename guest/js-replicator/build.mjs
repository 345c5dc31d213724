// Builds mapping.js into a WebAssembly component against wit/mapping.wit:
//   npm install && node build.mjs OUTPUT.wasm
// Every optional engine feature is disabled, so the component imports nothing but the contract.
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? join(here, 'replicator-js.wasm');
const source = await readFile(join(here, 'mapping.js'), 'utf8');
const { component } = await componentize(source, {
  witPath: relative(process.cwd(), join(here, '..', '..', 'wit')) || '.',
  worldName: 'mapping',
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
await writeFile(output, component);
console.log(`wrote ${output} (${component.length} bytes)`);
