import type { Route } from "./server";

/** The OpenAPI 3.1 document, generated from the route table so it cannot drift from the code. */
export function openApiDocument(routes: readonly Route[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.permission === "none" ? { security: [] } : { "x-permission": r.permission }),
      ...(r.method !== "GET"
        ? {
            requestBody: {
              required: false,
              content: {
                "application/json": { schema: { type: "object" } },
                ...(r.path === "/api/v1/pipelines"
                  ? { "application/yaml": { schema: { type: "string" } } }
                  : {}),
              },
            },
          }
        : {}),
      responses: {
        "200": { description: "OK" },
        "400": {
          description: "Bad request: the error says which field, what is wrong and the fix",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
        ...(r.permission === "none"
          ? {}
          : {
              "401": { description: "No or unknown bearer token" },
              "403": { description: "The token's role may not do this" },
            }),
        "404": { description: "Not found" },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "mlops-platform runtime",
      version: "1",
      description:
        "Pipelines, runs, approvals, events and logs. Roles: viewer (read), operator (read, write), approver (read, approve), admin (all).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          properties: {
            error: {
              type: "object",
              properties: {
                status: { type: "integer" },
                message: { type: "string" },
                problems: { type: "array", items: { type: "object" } },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
