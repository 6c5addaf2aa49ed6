// bench/auto's OpenTelemetry setup (`node --import ./bench/auto-otel.mjs app`): the Node SDK's tracer provider
// with its HTTP instrumentation and a batch span processor whose exporter writes spans as JSON lines to
// OTEL_BENCH_FILE, or drops them when that is unset ("exporting nowhere").
import { createRequire } from 'node:module';
import { openSync, writeSync } from 'node:fs';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

const file = process.env.OTEL_BENCH_FILE;
const fd = file ? openSync(file, 'w') : undefined;
const exporter = {
  export(spans, done) {
    if (fd !== undefined) {
      let text = '';
      for (const s of spans) {
        text += JSON.stringify({ name: s.name, trace: s.spanContext().traceId, span: s.spanContext().spanId, start: s.startTime, end: s.endTime, attributes: s.attributes }) + '\n';
      }
      writeSync(fd, text);
    }
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};
const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
// The instrumentation patches http when it is first required: load it now, before the app imports it.
createRequire(import.meta.url)('node:http');
