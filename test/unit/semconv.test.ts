import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import * as vendored from '../../src/semconv.js';

describe('vendored semantic-convention names', () => {
  const table = incubating as unknown as Record<string, unknown>;
  const names = Object.entries(vendored).filter(
    ([name, value]) => typeof value === 'string' && /^(ATTR|MESSAGING|METRIC)_/.test(name),
  );

  it('covers the messaging names tracehop emits', () => {
    expect(names.length).toBeGreaterThan(30);
  });

  it.each(names)('%s matches @opentelemetry/semantic-conventions', (name, value) => {
    expect(table[name]).toBe(value);
  });

  it('maps every renamed attribute to the name the package still exports as deprecated', () => {
    const deprecated = new Set(Object.values(table).filter((v) => typeof v === 'string'));
    for (const previous of Object.values(vendored.PREVIOUS_ATTRIBUTE_NAMES)) {
      expect(deprecated.has(previous), previous).toBe(true);
    }
    expect(vendored.PREVIOUS_SYSTEM_VALUES['aws.sqs']).toBe(
      table['MESSAGING_SYSTEM_VALUE_AWS_SQS'],
    );
    expect(vendored.PREVIOUS_SYSTEM_VALUES['gcp.pubsub']).toBe(
      table['MESSAGING_SYSTEM_VALUE_GCP_PUBSUB'],
    );
  });
});
