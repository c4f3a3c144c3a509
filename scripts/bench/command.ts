/**
 * A command line to run: program, arguments, and what to add to the environment.
 */

/** One external command. */
export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
  /** Added to the inherited environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory (default: the benchmark's). */
  readonly cwd?: string;
}
