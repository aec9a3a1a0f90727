/**
 * Part of `npm run gen`: writes the AsyncAPI document of the webhooks (./document.ts) to
 * src/api/generated/asyncapi.json, only when its content changes.
 */
import { writeIfChanged } from '../openapi/write-if-changed.js';
import { asyncApiDocument } from './document.js';

writeIfChanged('src/api/generated/asyncapi.json', `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
