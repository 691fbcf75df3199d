import { readFileSync } from 'node:fs';

/** A process that started this one, directly or through others. */
export interface Launcher {
  readonly pid: number;
  /** Start time in clock ticks since boot (`/proc/<pid>/stat` field 22): a reused pid has another. */
  readonly startTime: number;
}

export interface WatchLaunchersOptions {
  /** How often the launchers are checked, in ms. @default 500 */
  readonly intervalMs?: number;
}

/** A running watch; `stop()` ends it (idempotent). */
export interface LauncherWatch {
  /** The processes watched, nearest first. */
  readonly launchers: readonly Launcher[];
  stop(): void;
}

interface ProcStat {
  state: string;
  ppid: number;
  session: number;
  /** Controlling terminal (`tty_nr`); 0 without one. */
  tty: number;
  startTime: number;
}

/**
 * Calls `onGone` once when a process that launched this one goes away, whatever ended it.
 *
 * `npm start` runs `npm` → `sh -c` → `tsx` → `node`: killing `npm` alone (SIGKILL, or a SIGTERM
 * that `sh` does not pass on) leaves the rest running under PID 1, and with them every server and
 * execution environment the stack started. Those children already exit when this process goes (their
 * IPC channel closes), so this process only has to notice its launchers going. Nothing tells it,
 * so the launchers are polled: every ancestor up to the session leader (a process manager, CI, or
 * `setsid npm start`), but not a terminal's shell unless it is the direct parent. The timer is
 * unref'd, so the watch never keeps the process alive.
 *
 * Without `/proc` (macOS, Windows), only the direct parent is watched, through `process.ppid`.
 */
export function watchLaunchers(
  onGone: (launcher: Launcher) => void,
  options: WatchLaunchersOptions = {},
): LauncherWatch {
  const launchers = findLaunchers();
  const initialParent = process.ppid;
  let stopped = false;
  const check = (): void => {
    const gone =
      launchers.length === 0
        ? process.ppid !== initialParent
          ? { pid: initialParent, startTime: 0 }
          : undefined
        : launchers.find((launcher) => !isRunning(launcher));
    if (gone === undefined || stopped) return;
    watch.stop();
    onGone(gone);
  };
  const timer = setInterval(check, options.intervalMs ?? 500);
  timer.unref();
  const watch: LauncherWatch = {
    launchers,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
  return watch;
}

/** This process's launchers, nearest first (empty where `/proc` cannot be read). */
function findLaunchers(): Launcher[] {
  const found: Launcher[] = [];
  let pid = process.ppid;
  while (pid > 1) {
    const stat = readStat(pid);
    if (stat === undefined) break;
    const isSessionLeader = stat.session === pid;
    // A terminal's shell: closing the terminal hangs up the whole session anyway, and a job left
    // running in the background (`nohup`) is meant to outlive it.
    if (isSessionLeader && stat.tty !== 0 && found.length > 0) break;
    found.push({ pid, startTime: stat.startTime });
    // Above a session leader is whoever started a new session on purpose (`setsid`, a daemon).
    if (isSessionLeader) break;
    pid = stat.ppid;
  }
  return found;
}

function isRunning(launcher: Launcher): boolean {
  const stat = readStat(launcher.pid);
  // A zombie has exited and only waits for its parent to collect it.
  return stat !== undefined && stat.startTime === launcher.startTime && !/^[ZXx]$/.test(stat.state);
}

/** `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses, so fields are read after its last `)`. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of proc(5): state, ppid (4), session (6), tty_nr (7), starttime (22).
  return {
    state: fields[0] ?? '',
    ppid: Number(fields[1]),
    session: Number(fields[3]),
    tty: Number(fields[4]),
    startTime: Number(fields[19]),
  };
}
