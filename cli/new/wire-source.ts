import { dirname, relative, sep } from 'node:path';
import { fail } from '../cli-error';

/** The source `driverless new --wire` adds to a MicroBatchPipeline's `sources`. */
export interface SourceToWire {
  /** The key in `sources` (camelCase of the name). */
  readonly key: string;
  /** Absolute path of the handler module. */
  readonly handlerFile: string;
  /** Variables the handler reads, set to placeholders for the user to replace. */
  readonly environment: readonly string[];
  /** Whether the source needs `tumblingWindow` (and so `Duration`). */
  readonly window: boolean;
  /** Whether the source has stateful jobs: `state: true` gives it the state table and ticks. */
  readonly state: boolean;
}

/** Where the stack lives and how its module system names its own folder. */
export interface StackFile {
  readonly path: string;
  readonly text: string;
  /** ES modules have no `__dirname`: the entry is then written relative to the project root. */
  readonly esm: boolean;
  readonly root: string;
}

const PIPELINE = /\bnew\s+MicroBatchPipeline\s*\(/g;

/** Whether `index` is inside a `//` or `/* *\/` comment of `text` (line-based, good enough here). */
function inComment(text: string, index: number): boolean {
  const line = text.slice(text.lastIndexOf('\n', index) + 1, index);
  return /^\s*(\/\/|\*|\/\*)/.test(line);
}

/** The index just past the `}` closing the `{` at `open`, skipping strings and comments. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '/' && text[i + 1] === '/') i = text.indexOf('\n', i);
    else if (char === '/' && text[i + 1] === '*') i = text.indexOf('*/', i) + 1;
    else if (char === "'" || char === '"' || char === '`') {
      for (i++; i < text.length && text[i] !== char; i++) if (text[i] === '\\') i++;
    } else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) return i + 1;
    if (i < 0) break;
  }
  return -1;
}

/** The expression of the handler's path: beside the stack through `path`, else from the root. */
function entryExpression(stack: StackFile, handlerFile: string): string {
  const fromRoot = `'${relative(stack.root, handlerFile).split(sep).join('/')}'`;
  if (stack.esm) return fromRoot;
  const segments = relative(dirname(stack.path), handlerFile)
    .split(sep)
    .map((segment) => `'${segment}'`)
    .join(', ');
  const namespace = /^import\s+(?:\*\s+as\s+)?(\w+)\s+from\s+['"](?:node:)?path['"]/m.exec(
    stack.text,
  );
  if (namespace) return `${namespace[1]}.join(__dirname, ${segments})`;
  const named = /^import\s*\{([^}]*)\}\s*from\s+['"](?:node:)?path['"]/m.exec(stack.text);
  if (named?.[1]?.split(',').some((name) => name.trim() === 'join')) {
    return `join(__dirname, ${segments})`;
  }
  return fromRoot;
}

/** `Duration` as the stack can name it, adding its import when the stack has none. */
function withDuration(text: string): { text: string; duration: string } {
  const named = /^import\s*\{([^}]*)\}\s*from\s+['"]aws-cdk-lib(?:\/core)?['"];?/m.exec(text);
  if (named) {
    const names = (named[1] as string).split(',').map((name) => name.trim());
    if (names.includes('Duration')) return { text, duration: 'Duration' };
    const list = ['Duration', ...names.filter((name) => name !== '')].join(', ');
    const updated = named[0].replace(/\{[^}]*\}/, `{ ${list} }`);
    return {
      text: `${text.slice(0, named.index)}${updated}${text.slice(named.index + named[0].length)}`,
      duration: 'Duration',
    };
  }
  const namespace = /^import\s+\*\s+as\s+(\w+)\s+from\s+['"]aws-cdk-lib(?:\/core)?['"]/m.exec(text);
  if (namespace) return { text, duration: `${namespace[1]}.Duration` };
  const imports = [...text.matchAll(/^import\s[^;]*;\s*$/gm)];
  const last = imports.at(-1);
  const at = last ? (last.index as number) + last[0].length : 0;
  const line = "import { Duration } from 'aws-cdk-lib';";
  return {
    text: last ? `${text.slice(0, at)}\n${line}${text.slice(at)}` : `${line}\n${text}`,
    duration: 'Duration',
  };
}

/**
 * The lines of a source entry, for `sources` (unindented, ending with `},`). The stream gets no
 * `streamName`: a fixed name on a stream retained when it leaves the stack makes the next deploy
 * after `cdk destroy` fail with "already exists" (synth warns about it), while the name
 * CloudFormation generates is unique per stack and stage.
 */
export function sourceEntryLines(
  source: SourceToWire,
  entry: string,
  duration = 'Duration',
): string[] {
  const environment = source.environment.map(
    (variable) => `${variable}: '<${variable.toLowerCase().replaceAll('_', '-')}>'`,
  );
  return [
    `${source.key}: {`,
    '  stream: { shardCount: 1 },',
    `  entry: ${entry},`,
    ...(source.window ? [`  tumblingWindow: ${duration}.minutes(5),`] : []),
    ...(source.state ? ['  state: true,'] : []),
    ...(environment.length > 0 ? [`  environment: { ${environment.join(', ')} },`] : []),
    '},',
  ];
}

/**
 * The stack with `source` added at the top of its MicroBatchPipeline's `sources` object. Fails,
 * changing nothing, when the stack has no single pipeline with an object literal of sources, or
 * already has the source's key.
 */
export function wireSource(
  stack: StackFile,
  source: SourceToWire,
): { readonly text: string; readonly entry: string } {
  const name = relative(stack.root, stack.path);
  const pipelines = [...stack.text.matchAll(PIPELINE)].filter(
    (match) => !inComment(stack.text, match.index as number),
  );
  if (pipelines.length === 0) fail(`${name} has no new MicroBatchPipeline(...)`);
  if (pipelines.length > 1) {
    fail(`${name} declares ${pipelines.length} MicroBatchPipelines: add the source by hand`);
  }
  const start = (pipelines[0] as RegExpMatchArray).index as number;
  // \`sources: {\` is the object to add to; \`sources: someVariable\` or shorthand \`sources,\` is not.
  const sources = /\bsources\b(\s*:\s*\{)?/g;
  sources.lastIndex = start;
  const found = sources.exec(stack.text);
  if (!found) fail(`${name}: the MicroBatchPipeline has no sources to add the source to`);
  if (found[1] === undefined) {
    fail(
      `${name}: the MicroBatchPipeline's sources is not an object literal: add the source by hand`,
    );
  }
  const open = found.index + found[0].length - 1;
  const close = closingBrace(stack.text, open);
  if (close < 0) fail(`${name}: the MicroBatchPipeline's sources object is not closed`);
  const object = stack.text.slice(open, close);
  if (new RegExp(`(^|[\\s,{])['"]?${source.key}['"]?\\s*:`).test(object)) {
    fail(`${name} already has a source named ${source.key}`);
  }

  const lineStart = stack.text.lastIndexOf('\n', found.index) + 1;
  const indent = `${/^[ \t]*/.exec(stack.text.slice(lineStart))?.[0] ?? ''}  `;
  const expression = entryExpression(stack, source.handlerFile);
  // Add the import (which moves the text) only after every check passed and the spot is known.
  const before = stack.text.slice(0, open + 1);
  const after = stack.text.slice(open + 1);
  const { text: head, duration } = source.window
    ? withDuration(before)
    : { text: before, duration: 'Duration' };
  const lines = sourceEntryLines(source, expression, duration);
  const block = lines.map((line) => `${indent}${line}`).join('\n');
  return {
    text: `${head}\n${block}${after.startsWith('\n') ? '' : '\n'}${after}`,
    entry: lines.join('\n'),
  };
}
