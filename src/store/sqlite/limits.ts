// The SQLite store's limits, each with its unit and reason.

/** How long a statement waits for another process's write lock, in ms, when `busyTimeoutMs`
 * is not given: 5 s. Writes are short (a group commit, a claim); a lock held longer is a
 * process stuck in a transaction, and the write fails with a typed store error instead of
 * waiting forever. */
export const SQLITE_BUSY_TIMEOUT_MS_DEFAULT = 5_000;

/** Page cache per connection, in KiB: 64 MiB. Many runs write to different pages of the
 * journal in one group commit: keep them cached. */
export const SQLITE_CACHE_KIB = 65_536;

/** Problems the quick check at open reports at the most: 3. One is enough to refuse the
 * file; a few help whoever restores it. */
export const QUICK_CHECK_PROBLEMS_MAX = 3;

/** Journal entries one run can number in a SQLite store: 2^32 − 1, far above any journal
 * limit the engine allows. A journal row's key is its run's number times 2^32 plus its seq
 * (so a run's entries share pages: one b-tree write per append); an append past it fails
 * with `journal_too_long`. */
export const SQLITE_RUN_ENTRIES_MAX = 2 ** 32 - 1;

/** Runs one SQLite file can number over its life: 2^31 − 1 (numbers of deleted runs at the
 * top are given again). A run created past it fails with a constraint error. */
export const SQLITE_RUN_NUMBERS_MAX = 2 ** 31 - 1;
