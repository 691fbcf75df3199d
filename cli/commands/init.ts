import { relative } from 'node:path';
import type { Command } from 'commander';
import { initProject } from '../init/init-project';

/** `driverless init <dir>`: a new pipeline project, ready for `npm install`. */
export function register(program: Command): void {
  program
    .command('init')
    .description('create a new pipeline project: a CDK app with one MicroBatchPipeline source')
    .argument('<dir>', 'directory to create the project in (new, or empty)')
    .option('--name <name>', 'kebab-case project name (default: the directory name)')
    .option('--json', 'print what was created as one JSON line')
    .addHelpText(
      'after',
      `
Writes package.json, cdk.json, tsconfig.json, jest.config.js, bin/app.ts,
lib/<name>-stack.ts (a MicroBatchPipeline with a page-views source),
functions/page-views.ts, samples/page-views.ndjson, unit, integration and stack
tests, README.md and .gitignore. After npm install: npm start runs the handler over
the sample (offline), npm test runs the tests, npx cdk synth synthesizes the stack.

Exit codes: 0 created; 2 bad name, the directory is not empty.

Examples:
  $ npx driverless init click-pipeline
  $ npx driverless init . --name click-pipeline`,
    )
    .action(async (dir: string, options: { name?: string; json?: boolean }) => {
      const project = await initProject({
        dir,
        ...(options.name === undefined ? {} : { name: options.name }),
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(project)}\n`);
        return;
      }
      const where = relative(process.cwd(), project.dir) || '.';
      process.stdout.write(
        `created ${project.name} in ${where}:\n${project.files.map((file) => `  ${file}`).join('\n')}\n`,
      );
      process.stdout.write(
        `next:\n${where === '.' ? '' : `  cd ${where}\n`}  npm install\n  npm start     # the handler over the sample, on this machine\n  npm test\n  npx cdk synth\n`,
      );
    });
}
