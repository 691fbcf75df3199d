import { mkdir, rm } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  assemblyStackNames,
  type EmbeddedStack,
  type EsmEvent,
  type EventSourceMappingConfig,
  emptyApp,
  type KinesisEngine,
  kinesisClient,
  type LocalApp,
  readAssemblyStacks,
  readStackState,
  STATE_FILE,
  startEmbeddedStack,
  synthesize,
  watchLaunchers,
  withAddedResources,
} from '../../emulator/index';
import { CliError, EXIT_FAILURE } from '../cli-error';
import { AppActivity } from './app-activity';
import { BundleRebuilder, sameHandlerModule } from './bundle-rebuilder';
import { renderLiveView, renderSummary, type SessionHeader, table } from './live-view';
import { addsResources, describeAdded, planUpdate, type UpdatePlan } from './plan-update';
import { startStreamTap } from './stream-tap';
import { updateQueue } from './update-queue';
import { readWatchPatterns, watchFiles } from './watch-files';

/** Demo traffic a caller adds to a session (`npm start`'s retail producer). */
export interface DevTraffic {
  /** Resolves with the number of records put once the traffic ends (a limit, or `stop()`). */
  readonly done: Promise<number>;
  stop(): void;
}

/** Options of {@link runDev}. */
export interface DevOptions {
  /** The CDK project (where cdk.json is). */
  readonly projectDir: string;
  /** Stacks to run, by name or artifact id. @default - every stack of the app */
  readonly stacks?: readonly string[];
  /** `-c key=value` context, over cdk.json's. @default - none */
  readonly context?: Readonly<Record<string, string>>;
  /** Re-synthesize on changes and publish new code. @default true */
  readonly watch?: boolean;
  /** @default 'kinesalite' */
  readonly engine?: KinesisEngine;
  /**
   * Wait for this many records to be put (by the traffic, or by anyone), then until every mapping
   * has processed, dead-lettered, filtered out or given up on each of them; exit 0 only if all are
   * accounted for. @default - run until stopped
   */
  readonly records?: number;
  /** With `records`: give up after this many seconds. @default 120 */
  readonly timeoutSeconds?: number;
  /** Relative to the project. @default '.driverless/local.json' */
  readonly stateFile?: string;
  /**
   * How often scheduled rules fire: a stateful window on a quiet stream closes a tick after it is
   * due, and a minute, the cloud's rate, feels like a hang at a terminal. @default 5
   */
  readonly tickSeconds?: number;
  /** Starts demo traffic once the stack runs. @default - none (records come from the user) */
  readonly traffic?: (context: { kinesis: KinesisClient; app: LocalApp }) => DevTraffic;
  /** The command as the user typed it, for the view and messages. @default 'driverless dev' */
  readonly command?: string;
  /** Redraw a full-screen view each second. @default - when stdout is a terminal and no `records` */
  readonly interactive?: boolean;
  /** Called with the first record processed (benchmarks). */
  readonly onFirstProcessed?: () => void;
  /** Every mapping event, after the live view has counted it (benchmarks, tests). */
  readonly onMappingEvent?: (mapping: EventSourceMappingConfig, event: EsmEvent) => void;
  /**
   * Called when a watch-mode update finished: the versions published, what needs a restart, and
   * when each step happened.
   */
  readonly onUpdate?: (update: {
    published: { functionName: string; version: string }[];
    needRestart: string[];
    timings: UpdateTimings;
  }) => void;
  /** Resolves once the stack runs, with a way to stop the session (tests, benchmarks). */
  readonly onStarted?: (session: { stack: EmbeddedStack; stop(): void }) => void;
}

/** When each step of a watch-mode update happened, for benchmarks (epoch ms, or ms taken). */
export interface UpdateTimings {
  /** The first file change of the burst was seen. */
  readonly changedAt: number;
  /** The update started: after the debounce, and after an update in flight. */
  readonly startedAt: number;
  /** esbuild (the fast path) or the synth, ms. */
  readonly buildMs: number;
  /** Writing the new code directories, ms (0 after a synth, which writes its own). */
  readonly writeMs: number;
  /** Starting the new versions' environments before the aliases moved, ms. */
  readonly warmMs: number;
  /** The live aliases moved to the new versions. */
  readonly publishedAt: number;
}

/** Where a session writes. */
export interface DevOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const STANDARD_OUTPUT: DevOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit codes of a session: stopped by a signal (128 + its number), as shells report them. */
const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a CDK app on the embedded stack until it is stopped (SIGINT, SIGTERM, or `records`
 * accounted for): synthesizes it, starts every stack's resources, functions and mappings, shows
 * the live view, publishes new code on changes, prints a summary on the way out and removes its
 * state file. Returns the exit code.
 */
export async function runDev(
  options: DevOptions,
  output: DevOutput = STANDARD_OUTPUT,
): Promise<number> {
  const projectDir = resolve(options.projectDir);
  const command = options.command ?? 'driverless dev';
  const progress = (text: string) => output.stderr(`${text}\n`);
  const stateFile = options.stateFile ?? STATE_FILE;
  const sessionDir = resolve(projectDir, '.driverless', `dev-${process.pid}`);
  const watch = options.watch ?? true;
  const accounting = options.records !== undefined;

  // Signals are taken first: a SIGTERM during the synth or the start must still stop what started.
  let stopRequested: ((code: number) => void) | undefined;
  let pendingSignal: number | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (stopRequested) stopRequested(SIGNAL_EXIT[signal]);
    else pendingSignal ??= SIGNAL_EXIT[signal];
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  // A launcher (npm → sh → tsx, or a process manager) killed alone sends no signal here: its
  // going counts as a SIGTERM, so nothing is left running under PID 1.
  const launchers = watchLaunchers(handlers.SIGTERM);
  const cleanup: (() => Promise<void> | void)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    // The stack claims the file only once the synth is done: say at once that it is taken.
    const taken = stateFileOwner(resolve(projectDir, stateFile));
    if (taken !== undefined) {
      throw new CliError(
        `another session (pid ${taken}) runs this project and writes ${stateFile}: stop it, or give this one its own state file with --state-file .driverless/<name>.json`,
        EXIT_FAILURE,
      );
    }
    await mkdir(sessionDir, { recursive: true });
    cleanup.push(() => rm(sessionDir, { recursive: true, force: true }));
    progress(`› synthesizing the app (${relative(process.cwd(), projectDir) || '.'}/cdk.json)…`);
    const bundlingStacks = options.stacks?.length ? options.stacks : undefined;
    const synthOptions = {
      ...(options.context === undefined ? {} : { context: options.context }),
      ...(bundlingStacks === undefined ? {} : { bundlingStacks }),
    };
    let generation = 0;
    const assemblyDir = await synthesize(
      projectDir,
      resolve(sessionDir, `assembly-${generation}`),
      synthOptions,
    ).catch((error: unknown) => {
      // The app's own output says what is wrong with it: all of it, then the one-line error.
      const [first, ...rest] = (error instanceof Error ? error.message : String(error)).split('\n');
      if (rest.length > 0) progress(rest.join('\n'));
      throw new CliError(first ?? 'synth failed', EXIT_FAILURE);
    });
    if (pendingSignal !== undefined) return pendingSignal;
    const stacks = options.stacks?.length ? [...options.stacks] : assemblyStackNames(assemblyDir);
    progress(
      `› starting the embedded stack (${options.engine ?? 'kinesalite'}, dynalite, fauxqs) for ${stacks.join(', ')}…`,
    );

    // The fast path: a change only handlers see is rebuilt with esbuild, without a synth. Made
    // while the stack starts (esbuild reads only the project's files), so that it is ready by the
    // first change: a change before then waits for it, since a synth takes longer.
    let rebuilder: BundleRebuilder | undefined;
    let rebuilderFailure: string | undefined;
    const rebuilderReady = watch
      ? BundleRebuilder.start({
          projectDir,
          functions: readAssemblyStacks(assemblyDir, stacks).functions,
          outputRoot: resolve(sessionDir, 'bundles'),
        }).then(
          (made) => {
            rebuilder = made;
          },
          (error: unknown) => {
            rebuilderFailure = firstLine(error);
          },
        )
      : Promise.resolve();
    cleanup.push(async () => {
      await rebuilderReady;
      await rebuilder?.dispose();
    });

    let activity: AppActivity | undefined;
    let firstSeen = false;
    const stack = await startEmbeddedStack({
      assemblyDir,
      stackNames: stacks,
      kinesisEngine: options.engine ?? 'kinesalite',
      stateFile: resolve(projectDir, stateFile),
      scheduleIntervalMs: (options.tickSeconds ?? 5) * 1000,
      onNote: (note) => progress(`  note: ${note}`),
      onMappingEvent: (mapping, event) => {
        activity?.onMappingEvent(mapping, event);
        options.onMappingEvent?.(mapping, event);
        if (!firstSeen && event.type === 'recordsCheckpointed') {
          firstSeen = true;
          options.onFirstProcessed?.();
        }
      },
      onLog: (functionName, line) => activity?.onLog(functionName, line),
    });
    cleanup.push(() => stack.stop());
    if (pendingSignal !== undefined) return pendingSignal;
    activity = new AppActivity(stack.app, accounting);
    const live = activity;
    void rebuilderReady.then(() => {
      if (rebuilderFailure !== undefined) {
        live.notice(`every change will be synthesized: ${rebuilderFailure}`);
      }
    });
    const kinesis = kinesisClient(stack.endpoints.kinesis);
    const tap = startStreamTap({
      kinesis,
      streams: stack.app.streams.map((s) => s.name),
      onRecords: (records) => live.onPut(records),
    });
    // Streams added while the session runs get taps of their own.
    const taps = [tap];
    cleanup.push(() => Promise.all(taps.map((running) => running.stop())).then(() => undefined));
    await tap.ready;

    // Watch mode: the model of what runs, to compare each new synth with.
    let running = readAssemblyStacks(assemblyDir, stacks, { sqsEndpoint: stack.endpoints.sqs });
    const patterns = readWatchPatterns(projectDir);
    const update = async (paths: string[], changedAt: number) => {
      const started = Date.now();
      let buildMs = 0;
      let writeMs = 0;
      generation++;
      const changed = paths.length > 3 ? `${paths.slice(0, 3).join(', ')}…` : paths.join(', ');
      await rebuilderReady;
      const handlersOnly = rebuilder?.affected(paths);
      let plan: UpdatePlan;
      if (rebuilder && handlersOnly) {
        live.notice(
          `changed: ${changed}; rebuilding ${handlersOnly.map((name) => live.labelOf(name)).join(', ')}…`,
        );
        let built: Map<string, string>;
        try {
          built = await rebuilder.rebuild(handlersOnly, (name) => codeDirectoryOf(running, name));
          ({ buildMs, writeMs } = rebuilder.lastRebuild);
        } catch (error) {
          live.notice(`build failed, the running code is unchanged: ${firstLine(error)}`);
          return;
        }
        plan = {
          publish: [...built].map(([functionName, codeDirectory]) => ({
            functionName,
            codeDirectory,
          })),
          add: emptyApp(running),
          needRestart: [],
        };
      } else {
        live.notice(`changed: ${changed}; synthesizing…`);
        let next: LocalApp;
        const synthStart = Date.now();
        try {
          const nextDir = await synthesize(
            projectDir,
            resolve(sessionDir, `assembly-${generation}`),
            synthOptions,
          );
          next = readAssemblyStacks(nextDir, stacks, { sqsEndpoint: stack.endpoints.sqs });
          buildMs = Date.now() - synthStart;
        } catch (error) {
          live.notice(`synth failed, the running code is unchanged: ${firstLine(error)}`);
          return;
        }
        // The synth may have added or dropped imports of the app or of a handler.
        await rebuilder?.refresh();
        const synthesized = planUpdate(running, next);
        const before = running;
        plan = {
          ...synthesized,
          publish: synthesized.publish.filter((change) => {
            const fn = before.functions.find((candidate) => candidate.name === change.functionName);
            return !fn || !sameHandlerModule(fn.handler, fn.codeDirectory, change.codeDirectory);
          }),
        };
      }
      // Each function's new version warms up before its alias moves; functions side by side.
      const warmStart = Date.now();
      const published = await Promise.all(
        plan.publish.map(async ({ functionName, codeDirectory }) => {
          const version = await stack.publishCode(functionName, codeDirectory);
          live.publishedVersions.set(functionName, version);
          return { functionName, version };
        }),
      );
      const publishedAt = Date.now();
      const timings: UpdateTimings = {
        changedAt,
        startedAt: started,
        buildMs,
        writeMs,
        warmMs: publishedAt - warmStart,
        publishedAt,
      };
      let added: LocalApp | undefined;
      if (addsResources(plan)) {
        try {
          added = await stack.addResources(plan.add);
          live.addApp(stack.app);
          // A later edit of a file the new functions share with others rebuilds them too.
          await rebuilder?.addFunctions(added.functions);
          const addedStreams = added.streams.map((s) => s.name);
          if (addedStreams.length > 0) {
            const more = startStreamTap({
              kinesis,
              streams: addedStreams,
              onRecords: (records) => live.onPut(records),
            });
            taps.push(more);
            await more.ready;
          }
        } catch (error) {
          live.notice(`adding ${describeAdded(plan.add)} failed: ${firstLine(error)}`);
        }
      }
      // Only what was applied becomes the running model: a change that needs a restart is
      // reported again after the next change, until the restart.
      running = {
        ...running,
        functions: running.functions.map((fn) => {
          const update = plan.publish.find((p) => p.functionName === fn.name);
          return update ? { ...fn, codeDirectory: update.codeDirectory } : fn;
        }),
      };
      if (added) running = withAddedResources(running, plan.add);
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      const before = live.notices.length;
      if (published.length > 0) {
        live.notice(
          `published ${published.map((p) => `${live.labelOf(p.functionName)} v${p.version}`).join(', ')} in ${took}: the live alias moved, mappings kept running`,
        );
      }
      if (added) live.notice(`added ${describeAdded(plan.add)} (${took}), running beside the rest`);
      if (published.length === 0 && !added && plan.needRestart.length === 0) {
        live.notice(`no function code changed (${took})`);
      }
      for (const change of plan.needRestart) live.notice(`restart to apply: ${change}`);
      if (!interactive) {
        for (const notice of live.notices.slice(before)) progress(`  ${notice}`);
      }
      options.onUpdate?.({ published, needRestart: [...plan.needRestart], timings });
    };
    const updates = updateQueue(update, (error) => {
      // The session outlives a failed update: it keeps running the code it had.
      live.notice(`update failed, the running code is unchanged: ${firstLine(error)}`);
      if (!interactive) progress(`  update failed: ${firstLine(error)}`);
    });
    const watcher = watch
      ? watchFiles(projectDir, patterns, (paths, changedAt) => updates.push(paths, changedAt))
      : undefined;
    if (watcher) cleanup.push(() => watcher.close());

    const header: SessionHeader = {
      command,
      app: basename(projectDir),
      stacks,
      endpoints: stack.endpoints,
      stateFile,
      watching: watch ? patterns.include.join(' ') : undefined,
    };
    const traffic = options.traffic?.({ kinesis, app: stack.app });
    if (traffic) {
      cleanup.push(() => traffic.stop());
      // A put that fails (a server stopping, a timeout on a busy machine) ends the demo traffic,
      // not the session.
      traffic.done.catch((error: unknown) =>
        live.notice(`demo traffic stopped: ${firstLine(error)}`),
      );
    }
    const interactive = options.interactive ?? (process.stdout.isTTY === true && !accounting);
    progress(`› running. ${interactive ? '' : 'SIGINT or SIGTERM stops it.'}`);
    let ticker: NodeJS.Timeout | undefined;
    if (interactive) {
      // Every frame is whole (header and stop hint included), written over the last one line by
      // line: each line clears its own rest and the screen below the frame is cleared, so nothing
      // flickers and nothing of a longer earlier frame stays.
      const draw = () =>
        output.stdout(`\x1b[H${renderLiveView(header, live).replace(/\n/g, '\x1b[K\n')}\x1b[J`);
      output.stdout('\x1b[2J');
      draw();
      ticker = setInterval(draw, 1000);
      cleanup.push(() => clearInterval(ticker));
    }
    options.onStarted?.({ stack, stop: () => stopRequested?.(0) });

    const stopped = new Promise<number>((done) => {
      stopRequested = done;
    });
    const accounted = accounting
      ? waitForAccounting(live, traffic, options, progress)
      : new Promise<number>(() => undefined);
    const code = await Promise.race([stopped, accounted]);
    // An update in flight finishes before the servers stop under it.
    watcher?.close();
    await updates.settled();
    clearInterval(ticker);
    // Below the last frame, which stays on screen as the final state.
    if (interactive) output.stdout('\n');
    progress('› stopping…');
    traffic?.stop();
    await traffic?.done.catch(() => undefined);
    await Promise.all(taps.map((running) => running.stop()));
    if (accounting) output.stdout(accountingReport(live, options.records ?? 0));
    await runCleanup();
    output.stdout(renderSummary(header, live));
    return code;
  } finally {
    await runCleanup();
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
    launchers.stop();
  }
}

/**
 * `records`: waits for that many records to be put, then for every mapping to be done with each,
 * saying now and then how many are still on their way. 0 when all are accounted for, 1 otherwise.
 */
async function waitForAccounting(
  activity: AppActivity,
  traffic: DevTraffic | undefined,
  options: DevOptions,
  progress: (text: string) => void,
): Promise<number> {
  const wanted = options.records ?? 0;
  const deadline = Date.now() + (options.timeoutSeconds ?? 120) * 1000;
  const sent = traffic ? await traffic.done : wanted;
  let lastReport = Date.now();
  const pending = () => activity.outstanding().filter((entry) => entry.missing > 0);
  while (Date.now() < deadline) {
    if (activity.put.length >= Math.min(sent, wanted) && pending().length === 0) return 0;
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      if (activity.put.length < wanted && !traffic) {
        progress(
          `  ${activity.put.length.toLocaleString('en-US')} of ${wanted.toLocaleString('en-US')} records put so far; waiting for the rest…`,
        );
      } else {
        const behind = pending()
          .map((entry) => `${entry.row.label} ${entry.missing.toLocaleString('en-US')}`)
          .join(', ');
        progress(`  still being processed: ${behind}`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return 1;
}

function accountingReport(activity: AppActivity, wanted: number): string {
  const result = activity.outstanding();
  const allPut = activity.put.length >= wanted;
  const complete = allPut && result.every((entry) => entry.missing === 0);
  return `${[
    table(
      ['source', 'stream', 'records put', 'accounted for', 'missing'],
      result.map(({ row, put, missing }) => [row.label, row.stream, put, put - missing, missing]),
    ),
    '',
    `${activity.put.length.toLocaleString('en-US')} records put; ${
      complete
        ? 'every record accounted for (processed, dead-lettered with its reason, filtered out or given up on).'
        : allPut
          ? 'SOME RECORDS WERE NOT ACCOUNTED FOR (the table names the sources behind).'
          : `ONLY ${activity.put.length.toLocaleString('en-US')} OF THE ${wanted.toLocaleString('en-US')} RECORDS EXPECTED WERE PUT before the timeout.`
    }`,
  ].join('\n')}\n`;
}

/** The pid of another running process that owns the state file at `path`, if any. */
function stateFileOwner(path: string): number | undefined {
  const read = readStackState(path);
  return read.kind === 'running' && read.state.pid !== process.pid ? read.state.pid : undefined;
}

function codeDirectoryOf(app: LocalApp, functionName: string): string {
  const fn = app.functions.find((candidate) => candidate.name === functionName);
  if (fn === undefined) throw new Error(`function ${functionName} is not running`);
  return fn.codeDirectory;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
