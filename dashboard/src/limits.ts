// The dashboard's limits, each with its unit and reason.

/** Runs per page of the list: a screenful that one indexed query answers fast. */
export const RUNS_PAGE_SIZE = 50;
/** Waiting runs of a page whose current wait is asked for (one explain call each). */
export const WAITS_EXPLAINED_MAX = 50;
/** Approvals the inbox and the badge read: more than this shows as "100+". */
export const APPROVALS_READ_MAX = 100;
/** How often the approvals badge and inbox refresh (the API has no live approval feed). */
export const APPROVALS_POLL_MS = 5_000;
/** How often ages and open timeline bars are redrawn. */
export const CLOCK_TICK_MS = 1_000;
/** Journal entries read per page of a run's journal. */
export const JOURNAL_PAGE_SIZE = 500;
/** Journal entries the run view reads at most (a longer journal is shown in part). */
export const JOURNAL_ENTRIES_MAX = 20_000;
/** Stream parts the conversation view keeps at most. */
export const STREAM_PARTS_SHOWN_MAX = 20_000;
/** Runs the overview reads per status and for its charts. */
export const OVERVIEW_SAMPLE_RUNS = 200;
