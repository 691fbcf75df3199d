/**
 * The IPC protocol between the embedded stack and each server's child process
 * (`server-main.mts`). One child per server gives each emulator its own event loop and CPU share.
 */

/** The emulators the embedded stack can run, one per child process. */
export type ServerKind = 'kinesalite' | 'kinesis-local' | 'dynalite' | 'fauxqs';

/** What the parent passes to the child (JSON in `argv[2]`). */
export interface ServerProcessOptions {
  kind: ServerKind;
  /** Absolute directory for on-disk state, for the engines that persist. */
  dataDir?: string;
  /**
   * Private directory (mode 0700) for the emulator's Unix socket: the emulator listens there, and
   * only the guarded front listens on TCP.
   */
  socketDir: string;
}

/** Messages the child sends to the parent. */
export type ServerProcessMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string };

/** Messages the parent sends to the child. */
export type ServerControlMessage = { type: 'stop' };
