import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');
const ESM_DOC = 'docs/event-source-mapping.md';

function libSources(): Array<{ file: string; text: string }> {
  return fs
    .readdirSync(LIB, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file, text: fs.readFileSync(path.join(LIB, file), 'utf8') }));
}

// A comment must send its reader to something they can open: a file of the repo or a public URL.
describe('citations in lib/', () => {
  test('cite no document outside the repository', () => {
    // when
    const outside = libSources().filter(({ text }) =>
      /ESM-SEMANTICS|\/work\/shared|DOC [A-Z]\b|§/.test(text),
    );
    // then
    expect(outside.map((s) => s.file)).toStrictEqual([]);
  });

  test('name anchors that exist in the event source mapping reference', () => {
    // given
    const doc = fs.readFileSync(path.join(ROOT, ESM_DOC), 'utf8');
    const anchors = new Set([...doc.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    // when
    const cited = libSources().flatMap(({ file, text }) =>
      [...text.matchAll(/docs\/event-source-mapping\.md#([a-z0-9-]+)/g)].map((m) => ({
        file,
        anchor: m[1]!,
      })),
    );
    // then
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter((c) => !anchors.has(c.anchor))).toStrictEqual([]);
  });
});
