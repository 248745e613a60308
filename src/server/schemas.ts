// The schemas requests are checked against; the OpenAPI document is generated from them too.
import { z } from "zod";
import {
  JOURNAL_PAGE_LIMIT_MAX,
  LIST_RUNS_LIMIT_MAX,
  MEMORY_KEY_LENGTH_MAX,
  MEMORY_LIST_LIMIT_MAX,
  NAME_LENGTH_MAX,
  RUN_ID_LENGTH_MAX,
} from "../core/limits.js";

const STATUSES = [
  "pending",
  "running",
  "waiting",
  "paused",
  "completed",
  "failed",
  "cancelled",
  "timed_out",
] as const;

export const runId = z.string().min(1).max(RUN_ID_LENGTH_MAX);
export const name = z.string().min(1).max(NAME_LENGTH_MAX);
const wholeNumber = (max: number) => z.coerce.number().int().min(0).max(max);
const positive = (max: number) => z.coerce.number().int().min(1).max(max);
const instant = z.iso.datetime({ offset: true }).describe("an ISO 8601 time");

export const noParams = z.strictObject({});
export const noQuery = z.strictObject({});
export const runParams = z.strictObject({ id: runId });
export const workflowParams = z.strictObject({ name });
export const signalParams = z.strictObject({ id: runId, name });
export const approvalParams = z.strictObject({ id: runId, name });
export const webhookParams = z.strictObject({ source: name });

export const startQuery = z.strictObject({
  wait: z.string().max(20).optional().describe("how long to wait for the result, such as 5s"),
});
export const startBody = z.strictObject({
  id: runId.optional().describe("the run's id: an idempotency key"),
  input: z.unknown().optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
});

export const listQuery = z.strictObject({
  workflow: name.optional(),
  status: z.enum(STATUSES).optional(),
  createdAfter: instant.optional(),
  createdBefore: instant.optional(),
  idContains: z.string().min(1).max(RUN_ID_LENGTH_MAX).optional(),
  limit: positive(LIST_RUNS_LIMIT_MAX).optional(),
  cursor: z
    .string()
    .max(RUN_ID_LENGTH_MAX + 32)
    .optional(),
});

export const journalQuery = z.strictObject({
  from: wholeNumber(Number.MAX_SAFE_INTEGER).optional().describe("first seq to return"),
  limit: positive(JOURNAL_PAGE_LIMIT_MAX).optional(),
});
export const streamQuery = z.strictObject({
  from: wholeNumber(Number.MAX_SAFE_INTEGER).optional().describe("first offset to return"),
  limit: positive(1000).optional(),
});
export const approvalsQuery = z.strictObject({
  runId: runId.optional(),
  limit: positive(LIST_RUNS_LIMIT_MAX).optional(),
});

export const cancelBody = z.strictObject({ reason: z.string().min(1).max(1000).optional() });
export const emptyBody = z.strictObject({});
export const resumeBody = z.strictObject({
  version: z.string().min(1).max(200).nullable().optional(),
});
const stepRef = z
  .union([
    z
      .string()
      .min(1)
      .max(NAME_LENGTH_MAX + 12),
    z.int().min(1),
  ])
  .describe("a step: its key (`plan#1`), its name (its first occurrence) or its position");
export const rewindBody = z.strictObject({
  toStep: stepRef.describe("the step to run again from: it and everything after it run again"),
});
export const forkBody = z.strictObject({
  atStep: stepRef.describe("the step the fork shares the journal up to, itself included"),
  output: z.unknown().optional().describe("that step's output in the fork, instead of the run's"),
  id: runId.optional().describe("the fork's run id; default a new one"),
});
export const signalBody = z.strictObject({ data: z.unknown().optional() });
export const eventBody = z.strictObject({
  name,
  data: z.unknown().optional(),
  id: z.string().min(1).max(256).optional(),
});
const memoryNamespace = z.string().min(1).max(NAME_LENGTH_MAX);
const memoryKey = z.string().min(1).max(MEMORY_KEY_LENGTH_MAX);
export const memoryNamespaceParams = z.strictObject({ namespace: memoryNamespace });
export const memoryKeyParams = z.strictObject({ namespace: memoryNamespace, key: memoryKey });
export const memoryListQuery = z.strictObject({
  prefix: z.string().max(MEMORY_KEY_LENGTH_MAX).optional().describe("keys that start with it"),
  after: memoryKey.optional().describe("the `next` of the previous page"),
  limit: positive(MEMORY_LIST_LIMIT_MAX).optional(),
});
export const memoryHistoryQuery = z.strictObject({
  limit: positive(MEMORY_LIST_LIMIT_MAX).optional(),
});
export const memorySetBody = z.strictObject({ value: z.unknown() });
export const argsBody = z.strictObject({ args: z.unknown().optional() });
export const updateBody = z.strictObject({
  args: z.unknown().optional(),
  id: name.optional().describe("the update's id: send a retry with the same one"),
});
export const decisionBody = z.strictObject({ comment: z.string().max(10_000).optional() });
