/**
 * The synth `driverless dev` runs: the project's own cdk.json `app` command, given what the cdk
 * CLI gives an app (CDK_OUTDIR, CDK_CONTEXT_JSON from cdk.json, cdk.context.json and -c values)
 * and no AWS credentials. The app here is a script that records what it was given.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../emulator/index';

// Writes an assembly with no stack, and what the app saw beside it.
const RECORDING_APP = `
const fs = require('node:fs');
const path = require('node:path');
const out = process.env.CDK_OUTDIR;
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts: {} }));
fs.writeFileSync(path.join(out, 'seen.json'), JSON.stringify({
  context: JSON.parse(process.env.CDK_CONTEXT_JSON),
  credentials: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'].filter((v) => process.env[v]),
}));
`;

let project: string;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'driverless-synth-'));
  writeFileSync(join(project, 'app.js'), RECORDING_APP);
});

afterEach(() => rmSync(project, { recursive: true, force: true }));

function seen(outdir: string): { context: Record<string, unknown>; credentials: string[] } {
  return JSON.parse(readFileSync(join(outdir, 'seen.json'), 'utf8'));
}

it("runs cdk.json's app with its context, cdk.context.json's and -c values over them", async () => {
  // Given
  writeFileSync(
    join(project, 'cdk.json'),
    JSON.stringify({ app: 'node app.js', context: { stage: 'prod', shards: 4 } }),
  );
  writeFileSync(join(project, 'cdk.context.json'), JSON.stringify({ 'lookup:vpc': 'vpc-1' }));

  // When
  const outdir = await synthesize(project, join(project, 'out'), {
    context: { stage: 'dev', retries: '3' },
  });

  // Then
  const { context } = seen(outdir);
  expect({
    stage: context.stage,
    shards: context.shards,
    retries: context.retries,
    lookup: context['lookup:vpc'],
  }).toStrictEqual({ stage: 'dev', shards: 4, retries: 3, lookup: 'vpc-1' });
});

it('gives the app no AWS credentials', async () => {
  // Given
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  process.env.AWS_ACCESS_KEY_ID = 'AKIA-should-not-leak';

  // When
  const outdir = await synthesize(project, join(project, 'out')).finally(() => {
    delete process.env.AWS_ACCESS_KEY_ID;
  });

  // Then
  expect(seen(outdir).credentials).toStrictEqual([]);
});

it('bundles only the stacks asked for, as cdk synth <stack> does', async () => {
  // Given
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));

  // When
  const outdir = await synthesize(project, join(project, 'out'), { bundlingStacks: ['Orders'] });

  // Then
  expect(seen(outdir).context['aws:cdk:bundling-stacks']).toStrictEqual(['Orders']);
});

it('takes an app that names an assembly directory as the assembly', async () => {
  // Given
  const assembly = join(project, 'prebuilt');
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  await synthesize(project, assembly);
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'prebuilt' }));

  // When
  const outdir = await synthesize(project, join(project, 'unused'));

  // Then
  expect({ outdir, written: existsSync(join(project, 'unused')) }).toStrictEqual({
    outdir: assembly,
    written: false,
  });
});

it('fails if the project has no cdk.json, saying where to run it', async () => {
  // When
  const synth = synthesize(project);

  // Then
  await expect(synth).rejects.toThrow(
    `${join(project, 'cdk.json')} is not found: run this in a CDK project (where cdk.json is)`,
  );
});

it("fails with the app's own output when its command fails", async () => {
  // Given
  writeFileSync(
    join(project, 'cdk.json'),
    JSON.stringify({ app: 'node -e "console.error(\'boom in app\'); process.exit(3)"' }),
  );

  // When
  const synth = synthesize(project, join(project, 'out'));

  // Then
  await expect(synth).rejects.toThrow(/exit 3\):\nboom in app/);
});
