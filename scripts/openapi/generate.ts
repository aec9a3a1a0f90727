/**
 * Second half of `npm run gen`: tsoa writes its document to .tmp/openapi/, this finishes it with
 * the edge's shared declarations (./edge-contract.ts) and writes src/api/generated/swagger.json,
 * only when its content changes, so the watching dev server (npm run dev) beside a test run is not restarted;
 * and renders docs/api.md from it (./reference.ts).
 */
import { readFileSync } from 'node:fs';
import { finishDocument, type OpenApiDocument } from './edge-contract.js';
import { renderReference } from './reference.js';
import { writeIfChanged } from './write-if-changed.js';

const RAW = '.tmp/openapi/swagger.json';
const TARGET = 'src/api/generated/swagger.json';

const document = finishDocument(JSON.parse(readFileSync(RAW, 'utf8')) as OpenApiDocument);
writeIfChanged(TARGET, `${JSON.stringify(document, null, 2)}\n`);
writeIfChanged('docs/api.md', renderReference(document));
