/**
 * Diverts what the handler writes to stdout while a run is going, so stdout carries only the
 * summary: JSON lines go to `onJson` (the runtime's `batch` lines feed the summary), metrics
 * (EMF, `_aws`) are dropped, JSON lines at a level `show` accepts (WARN and above by default) and
 * anything not JSON go on to stderr. Returns the function that restores
 * stdout.
 */
export function captureStdout(
  onJson: (line: Record<string, unknown>) => void,
  show: (level: string) => boolean = (level) =>
    level === 'WARN' || level === 'ERROR' || level === 'CRITICAL',
): () => void {
  const original = process.stdout.write.bind(process.stdout);
  let partial = '';
  const take = (text: string): void => {
    partial += text;
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      route(line);
      newline = partial.indexOf('\n');
    }
  };
  const route = (line: string): void => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      process.stderr.write(`${line}\n`);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) {
      process.stderr.write(`${line}\n`);
      return;
    }
    if ('_aws' in parsed) return;
    onJson(parsed as Record<string, unknown>);
    const level = (parsed as { level?: unknown }).level;
    if (typeof level === 'string' && show(level)) process.stderr.write(`${line}\n`);
  };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    take(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return () => {
    if (partial !== '') route(partial);
    process.stdout.write = original;
  };
}
