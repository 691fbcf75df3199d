// The cold-start goal holds for what users deploy as generated: each `driverless new` template and
// the `driverless init` handler, bundled as the construct bundles them, stay within 100 KB. Size,
// not init time, so it can be asserted on a busy machine; `npm run bench` measures the time.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundle,
  TEMPLATE_FUNCTIONS,
  writeInitProjectHandler,
} from '../../../bench/scenarios/cold-start';

const ROOT = join(__dirname, '..', '..', '..');
const GOAL_BYTES = 100 * 1024;

let scratch: string;
beforeAll(() => {
  // Inside the repository, so the generated handler's `driverless/runtime` resolves to the sources.
  mkdirSync(join(ROOT, '.driverless'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, '.driverless', 'bundle-size-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('generated handler bundles', () => {
  it.each(Object.entries(TEMPLATE_FUNCTIONS))('%s bundles to at most 100 KB', async (_, entry) => {
    // When
    const { bytes } = await bundle(entry, join(scratch, `${entry.replaceAll('/', '-')}.js`));

    // Then
    expect(bytes).toBeLessThanOrEqual(GOAL_BYTES);
  });

  it('the driverless init handler bundles to at most 100 KB', async () => {
    // Given
    const entry = writeInitProjectHandler(join(scratch, 'init-project'));

    // When
    const { bytes } = await bundle(entry, join(scratch, 'init-project.js'));

    // Then
    expect(bytes).toBeLessThanOrEqual(GOAL_BYTES);
  });
});
