/** Powertools' log levels, quietest last. */
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
type Level = (typeof LEVELS)[number];

const rank = (level: string): number => LEVELS.indexOf(level.toUpperCase() as Level);

/** The variables Powertools reads its level from (Lambda's own first). */
const LEVEL_VARIABLES = ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL'] as const;

/**
 * Lets the runtime's per-batch `batch` line (level INFO) through, whatever level the user set:
 * `run` reads its job tallies and job errors from it, and with `POWERTOOLS_LOG_LEVEL=WARN` or
 * `SILENT` a failed run could not say why. Returns which handler log lines to show on stderr: the
 * user's level, never below WARN (INFO lines would bury the summary).
 */
export function keepBatchLines(env: NodeJS.ProcessEnv): (level: string) => boolean {
  let wanted = rank('WARN');
  for (const name of LEVEL_VARIABLES) {
    const value = env[name];
    if (!value || rank(value) === -1) continue;
    wanted = Math.max(wanted, rank(value));
    if (rank(value) > rank('INFO')) env[name] = 'INFO';
  }
  return (level) => rank(level) !== -1 && rank(level) >= wanted && wanted < rank('SILENT');
}
