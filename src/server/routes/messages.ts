// Routes for what reaches runs from people and other systems: events and approvals.
import type { EventToSend } from "../../engine/messages.js";
import { json } from "../json.js";
import { route, type Route } from "../route.js";
import * as s from "../schemas.js";

const decision = (approved: boolean): Route =>
  route({
    method: "post",
    path: `/v1/runs/{id}/approvals/{name}/${approved ? "approve" : "reject"}`,
    operationId: approved ? "approve" : "reject",
    summary: `${approved ? "Approve" : "Reject"} the run's open approval; the decider is the token's name.`,
    access: "approver",
    params: s.approvalParams,
    body: s.decisionBody,
    responses: {
      200: "recorded (more decisions needed) or settled",
      403: "the token's name is not among the approval's approvers",
      404: "no such run or open approval",
      409: "the approval was decided already",
    },
    async handle({ params, body, caller, server }) {
      const options = {
        by: caller.name,
        ...(body.comment !== undefined ? { comment: body.comment } : {}),
      };
      const outcome = approved
        ? await server.engine.approve(params.id, params.name, options)
        : await server.engine.reject(params.id, params.name, options);
      return json({ outcome, by: caller.name });
    },
  });

/** The event a checked body describes. */
export function eventOf(body: {
  name: string;
  data?: unknown;
  id?: string | undefined;
}): EventToSend {
  return { name: body.name, data: body.data, ...(body.id !== undefined ? { id: body.id } : {}) };
}

export const messageRoutes: Route[] = [
  route({
    method: "post",
    path: "/v1/events",
    operationId: "sendEvent",
    summary: "Send an event (idempotent by id): it wakes matching waits and starts triggered runs.",
    access: "operator",
    body: s.eventBody,
    responses: { 202: "the event was stored (or had been, with this id)" },
    async handle({ body, server }) {
      return json(await server.engine.sendEvent(eventOf(body)), 202);
    },
  }),
  route({
    method: "get",
    path: "/v1/approvals",
    operationId: "listApprovals",
    summary:
      "Open approvals of every run, oldest first, with who may decide and when they time out.",
    access: "viewer",
    query: s.approvalsQuery,
    responses: { 200: "the open approvals" },
    async handle({ query, server }) {
      const approvals = await server.engine.approvals({
        ...(query.runId !== undefined ? { runId: query.runId } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      return json({ approvals });
    },
  }),
  decision(true),
  decision(false),
];
