import { existsSync } from 'node:fs';
import { defineConfig } from 'tsup';

/** One entry per subpath export; adapters are built once their folder exists. */
const candidates: Record<string, string> = {
  index: 'src/index.ts',
  testing: 'src/testing/index.ts',
  amqp: 'adapters/amqp/index.ts',
  sqs: 'adapters/sqs/index.ts',
  pubsub: 'adapters/pubsub/index.ts',
  cloudevents: 'adapters/cloudevents/index.ts',
};

export default defineConfig({
  entry: Object.fromEntries(Object.entries(candidates).filter(([, file]) => existsSync(file))),
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  splitting: false,
  treeshake: true,
  external: [/^@opentelemetry\//, 'amqplib', /^@aws-sdk\//, /^@google-cloud\//, 'cloudevents'],
});
