/** The IO a command runs with: injected so tests can run commands in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** true when stderr is a terminal: progress bars are drawn only then */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** A command: its name, one-line summary, --help text and entry point. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Runs the command; resolves to the exit status. Errors thrown are mapped by main. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Exit statuses shared by every command. */
export const EXIT = {
  ok: 0,
  /** the operation failed (bad data, I/O, not found) */
  failure: 1,
  /** the command line was wrong */
  usage: 2,
  /** completed, but some input was skipped with a warning */
  partial: 3,
} as const;
