// The `endure` command's exit codes: documented in `endure --help` and docs/cli.md.

/** The command did what was asked. */
export const EXIT_OK = 0;
/** The command failed: a store or server error, a refused action (the message says why). */
export const EXIT_FAILED = 1;
/** The command line was wrong: an unknown command or option, a missing argument. */
export const EXIT_USAGE = 2;
/** The run, approval or workflow named does not exist. */
export const EXIT_NOT_FOUND = 3;
/** `start --wait` saw the run end other than completed (failed, cancelled, timed out, paused). */
export const EXIT_RUN_UNSUCCESSFUL = 4;
/** `verify` found entries that do not match the run's hash chain (edited, removed, moved). */
export const EXIT_TAMPERED = 7;

/** `replay` or `check`: a run would break on the new code (it diverges, or its version is gone). */
export const EXIT_WOULD_BREAK = 5;
/** `check`: the store cannot be reached or opened (nothing was checked). */
export const EXIT_STORE_UNREACHABLE = 6;

/** The exit codes as `--help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  ${EXIT_OK}  success
  ${EXIT_FAILED}  failure (store or server error, refused action)
  ${EXIT_USAGE}  usage error (unknown command or option, missing argument)
  ${EXIT_NOT_FOUND}  not found (run, approval or workflow)
  ${EXIT_RUN_UNSUCCESSFUL}  start --wait: the run failed, was cancelled, timed out or paused
  ${EXIT_WOULD_BREAK}  replay, check: a run diverges from the new code or its version is gone
  ${EXIT_STORE_UNREACHABLE}  check: the store cannot be reached
  ${EXIT_TAMPERED}  verify: the journal does not match its hash chain`;

const NOT_FOUND_CODES = new Set(["run_not_found", "approval_not_found", "workflow_not_found"]);

/** The exit code for an error with this endure code. */
export function exitCodeOf(code: string | undefined): number {
  return code !== undefined && NOT_FOUND_CODES.has(code) ? EXIT_NOT_FOUND : EXIT_FAILED;
}
