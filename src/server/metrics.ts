// Prometheus metrics, with prom-client: it writes the text exposition format
// exactly (escaping, histogram buckets with +Inf, _sum and _count, HELP and
// TYPE lines), and its default collectors give the process and Node.js
// metrics (resident memory, CPU, event-loop lag, GC, heap) that a Prometheus
// dashboard for any Node service expects, which we would otherwise rewrite
// and maintain. Each server has its own Registry, so several servers in one
// process (tests) never mix their counts.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly errors: Counter<'code'>;
  readonly batchSize: Histogram<'model'>;
  readonly batchSeconds: Histogram<'model'>;
  readonly queueWait: Histogram<'model'>;
  readonly sequences: Counter<'model'>;
  readonly generatedTokens: Counter<'model'>;
  readonly modelInfo: Gauge<'model' | 'task' | 'sha256'>;

  constructor(opts: { queueDepth: () => Record<string, number>; inFlight: () => number; defaultMetrics?: boolean }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'lstmkit_http_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['method', 'route', 'status'], registers,
    });
    this.latency = new Histogram({
      name: 'lstmkit_http_request_duration_seconds', help: 'Time from the request arriving to the response being sent',
      labelNames: ['method', 'route'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.errors = new Counter({
      name: 'lstmkit_errors_total',
      help: 'Requests answered with an error, by error code (invalid_argument, resource_exhausted, deadline_exceeded, …)',
      labelNames: ['code'], registers,
    });
    this.batchSize = new Histogram({
      name: 'lstmkit_batch_size', help: 'Sequences per forward pass', labelNames: ['model'], registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    });
    this.batchSeconds = new Histogram({
      name: 'lstmkit_batch_duration_seconds', help: 'Time of one forward pass', labelNames: ['model'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    });
    this.queueWait = new Histogram({
      name: 'lstmkit_queue_wait_seconds', help: 'Time a request waited for its forward pass (the batching delay and the queue)',
      labelNames: ['model'], registers,
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    this.sequences = new Counter({ name: 'lstmkit_predicted_sequences_total', help: 'Sequences predicted', labelNames: ['model'], registers });
    this.generatedTokens = new Counter({ name: 'lstmkit_generated_tokens_total', help: 'Tokens sampled by /generate', labelNames: ['model'], registers });
    this.modelInfo = new Gauge({
      name: 'lstmkit_model_info', help: 'The models served (always 1), with their task and file digest', labelNames: ['model', 'task', 'sha256'], registers,
    });
    new Gauge({
      name: 'lstmkit_queue_sequences', help: 'Sequences waiting for a forward pass', labelNames: ['model'], registers,
      collect() {
        for (const [model, depth] of Object.entries(opts.queueDepth())) this.set({ model }, depth);
      },
    });
    new Gauge({
      name: 'lstmkit_requests_in_flight', help: 'Requests being handled', registers,
      collect() {
        this.set(opts.inFlight());
      },
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
