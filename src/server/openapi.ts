// The OpenAPI 3.1 document, generated from the routes and the schemas that check requests.
import { z } from "zod";
import type { Route } from "./route.js";

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "docs"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        field: { type: "string" },
        docs: { type: "string" },
      },
    },
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  });
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (object.required ?? []).includes(name),
    schema: property,
  }));
}

function operation(route: Route): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(route.responses)) {
    const content: Record<string, unknown> = { "application/json": {} };
    if (route.events !== undefined && status === "200")
      content["text/event-stream"] = { schema: { type: "string", description: route.events } };
    responses[status] =
      Number(status) >= 400
        ? {
            description,
            content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
          }
        : { description, content };
  }
  responses["default"] = {
    description: "an error: { error: { code, message, field?, docs } }",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.access === "public" ? { security: [] } : {}),
    ...(route.access === "signed" ? { security: [{ webhookSignature: [] }] } : {}),
    "x-endure-role": route.access,
    parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
    ...(route.body !== undefined
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(route.body) } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of `routes`. */
export function openApiDocument(
  routes: readonly Route[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method] = operation(r);
  return {
    openapi: "3.1.0",
    info: { title: "endure API", version },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        webhookSignature: { type: "apiKey", in: "header", name: "Endure-Signature" },
      },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
