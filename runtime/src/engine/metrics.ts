import { Counter, Histogram, Registry } from "prom-client";

/** The runtime's Prometheus metrics (one registry per process, never the global one). */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly stepDuration = new Histogram({
    name: "mlops_step_duration_seconds",
    help: "Duration of step attempts, by kind and result.",
    labelNames: ["kind", "result"] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
    registers: [this.registry],
  });
  readonly dispatchLatency = new Histogram({
    name: "mlops_dispatch_latency_seconds",
    help: "From the last dependency's completion to the next step's start (executor object created).",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly triggers = new Counter({
    name: "mlops_trigger_deliveries_total",
    help: "Trigger deliveries, by source and whether they created a run or were duplicates.",
    labelNames: ["source", "result"] as const,
    registers: [this.registry],
  });
  readonly runsFinished = new Counter({
    name: "mlops_runs_finished_total",
    help: "Runs that reached a final state, by state.",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: "mlops_http_requests_total",
    help: "API requests, by route and status.",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
}
