/**
 * docker-compose.yml is valid YAML with the services the README and the comments in it document:
 * the three brokers, and Jaeger v2 with OTLP in on 4317/4318 and its UI on 16686 — the ports
 * README's "See it in Jaeger" uses. (No Docker engine runs here: this checks the file, not that
 * the images start.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services?: Record<string, { image?: unknown; ports?: unknown }>;
};
const readme = readFileSync(new URL('README.md', root), 'utf8');

/** The container ports a service publishes on the host, as `host port → container port`. */
function published(service: string): Map<number, number> {
  const ports = compose.services?.[service]?.ports;
  expect(Array.isArray(ports), `${service} has a list of ports`).toBe(true);
  return new Map(
    (ports as unknown[]).map((entry) => {
      const match = /^(?:[\d.]+:)?(\d+):(\d+)$/.exec(String(entry));
      expect(match, `${service} port "${String(entry)}" is [ip:]host:container`).not.toBeNull();
      return [Number(match?.[1]), Number(match?.[2])] as const;
    }),
  );
}

describe('docker-compose.yml', () => {
  it('has the brokers and Jaeger', () => {
    expect(Object.keys(compose.services ?? {}).sort()).toEqual(
      ['jaeger', 'pubsub', 'rabbitmq', 'sqs'].sort(),
    );
    for (const service of Object.values(compose.services ?? {})) {
      expect(service.image).toEqual(expect.any(String));
    }
  });

  it('runs Jaeger v2 all-in-one, with OTLP in on 4317 and 4318 and the UI on 16686', () => {
    expect(compose.services?.['jaeger']?.image).toMatch(/^jaegertracing\/jaeger:2(\.\d+)*$/);
    const ports = published('jaeger');
    expect(ports.get(4317)).toBe(4317);
    expect(ports.get(4318)).toBe(4318);
    expect(ports.get(16686)).toBe(16686);
  });

  it('publishes the broker ports its header comment and the README use', () => {
    expect(published('rabbitmq').get(5672)).toBe(5672);
    expect(published('sqs').get(9324)).toBe(9324);
    expect(published('pubsub').get(8085)).toBe(8085);
  });

  it('matches what README "See it in Jaeger" tells the reader to run', () => {
    const section = /^## See it in Jaeger\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    expect(section, 'README has a "See it in Jaeger" section').not.toBe('');
    expect(section).toContain('docker compose up -d jaeger');
    expect(section).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm run demo');
    expect(section).toContain('http://localhost:16686');
  });
});
