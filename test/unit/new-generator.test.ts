import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { namesOf } from '../../scripts/new/names.js';
import { SourceEdits } from '../../scripts/new/source-edits.js';

describe('npm run new: names and source edits (scripts/new)', () => {
  const file = (text: string) => {
    const at = path.join(mkdtempSync(path.join(tmpdir(), 'new-')), 'table.ts');
    writeFileSync(at, text);
    return at;
  };

  it('When a kebab-case name is given, then every spelling derives from it; anything else is refused', () => {
    expect(namesOf('event-counts')).to.deep.equal({
      kebab: 'event-counts',
      camel: 'eventCounts',
      pascal: 'EventCounts',
      snake: 'event_counts',
    });
    for (const bad of ['EventCounts', 'event_counts', '-x', 'x--y', '1x']) expect(() => namesOf(bad), bad).to.throw(/kebab-case/);
  });

  it('When the anchor is found once, then the entry goes before the end of its block and the import on top', () => {
    const at = file("import { a } from './a.js';\n\nexport const TABLE = {\n  a,\n};\n");
    const edits = new SourceEdits();

    edits.insertBeforeEnd(at, /^export const TABLE = \{$/, /^\};$/, '  b,');
    edits.addImport(at, "import { b } from './b.js';");

    expect(readFileSync(at, 'utf8')).to.equal(
      "import { b } from './b.js';\nimport { a } from './a.js';\n\nexport const TABLE = {\n  a,\n  b,\n};\n",
    );
    expect([...edits.touched]).to.deep.equal([at]);
  });

  it('When the anchor is missing or ambiguous, or the file exists, then it stops naming the file and changes nothing', () => {
    const text = 'export const TABLE = {\n};\nexport const TABLE = {\n};\n';
    const at = file(text);
    const edits = new SourceEdits();

    expect(() => edits.insertAfter(at, /^export const OTHER/, 'x')).to.throw(`${at}: expected one line matching`);
    expect(() => edits.insertBeforeEnd(at, /^export const TABLE = \{$/, /^\};$/, 'x')).to.throw('found 2');
    expect(() => edits.create(at, 'x')).to.throw('exists already');
    expect(readFileSync(at, 'utf8')).to.equal(text);
    expect(edits.touched.size).to.equal(0);
  });
});
