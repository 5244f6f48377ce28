/**
 * The optional peers whose package.json ranges are exactly the versions `npm run test:peers`
 * runs tracehop's tests against: `>=<oldest> <=<newest>`, both ends tested (and the newest
 * release of each major line in between).
 * Shared by scripts/test-peers.ts (what to install and run) and test/unit/peer-ranges.test.ts
 * (package.json and the README's table agree).
 */

export interface TestedPeer {
  /** The npm package, a key of package.json `peerDependencies`. */
  readonly name: string;
  /** The tracehop import path that needs it. */
  readonly subpath: string;
  /** vitest file filters: the tests that exercise this peer (unit and on the real brokers). */
  readonly suites: readonly string[];
  /**
   * The first version whose types tracehop's ESM build (NodeNext) resolves; below it only the
   * CommonJS build (Node10 resolution) is type-checked. For amqplib: before 1.2.0 it ships no
   * types and no `exports`, so `amqplib/callback_api` has no ESM type resolution, even with
   * @types/amqplib.
   */
  readonly esmTypesFrom?: string;
  /** Releases inside the range that run as well: the newest of each major line between the ends. */
  readonly alsoTested?: readonly string[];
  /**
   * Libraries some of these tests use together with the peer (devDependencies that need the
   * peer themselves), and a word in the names of those tests. Each run gives them the peer
   * version under test, as a deduplicated install would; below their own range for the peer
   * a user cannot have both, so their tests are left out of that run.
   */
  readonly companions?: readonly { readonly name: string; readonly testNames: string }[];
}

export const TESTED_PEERS: readonly TestedPeer[] = [
  {
    name: 'amqplib',
    subpath: 'tracehop/amqp',
    suites: [
      'test/unit/amqp/',
      'test/integration/amqp/',
      'test/integration/smoke-rabbitmq.test.ts',
    ],
    alsoTested: ['1.2.0'],
    esmTypesFrom: '1.2.0',
  },
  {
    name: '@aws-sdk/client-sqs',
    subpath: 'tracehop/sqs',
    suites: ['test/unit/sqs/', 'test/integration/sqs/', 'test/integration/smoke-sqs.test.ts'],
    companions: [{ name: 'sqs-consumer', testNames: 'sqs-consumer' }],
  },
  {
    name: '@aws-sdk/client-sns',
    subpath: 'tracehop/sns',
    suites: ['test/unit/sns/', 'test/integration/sns/'],
  },
  {
    name: '@google-cloud/pubsub',
    subpath: 'tracehop/pubsub',
    suites: [
      'test/unit/pubsub/',
      'test/integration/pubsub/',
      'test/integration/smoke-pubsub.test.ts',
    ],
  },
  {
    name: 'cloudevents',
    subpath: 'tracehop/cloudevents',
    suites: ['test/unit/cloudevents/', 'test/integration/cloudevents/'],
    alsoTested: ['9.0.0'],
  },
];

const VERSION = String.raw`\d+\.\d+\.\d+`;
const TESTED_RANGE = new RegExp(`^>=(${VERSION}) <=(${VERSION})$`);

/** The two tested ends of a `>=<oldest> <=<newest>` range; throws on any other form. */
export function testedSpan(
  name: string,
  range: string | undefined,
): { oldest: string; newest: string } {
  const match = range === undefined ? null : TESTED_RANGE.exec(range);
  if (!match?.[1] || !match[2]) {
    throw new Error(
      `peerDependencies["${name}"] is ${JSON.stringify(range)}; it must be ">=<oldest> <=<newest>", the versions test:peers runs against`,
    );
  }
  return { oldest: match[1], newest: match[2] };
}

const parse = (version: string): number[] => version.split('.').map(Number);
/** Orders two x.y.z versions: negative, 0 or positive. */
export function compare(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * Whether `version` (x.y.z) is in `range`, for the forms packages use for their peers:
 * `^x.y.z`, `>=x.y.z`, `x.y.z`, `>=x.y.z <=a.b.c`, and `||` of those. Throws on anything else.
 */
export function satisfies(version: string, range: string): boolean {
  return range.split('||').some((alternative) => {
    const comparators = alternative.trim().split(/\s+/);
    return comparators.every((comparator) => {
      const match = /^(\^|>=|<=)?(\d+\.\d+\.\d+)$/.exec(comparator);
      const bound = match?.[2];
      if (!bound) throw new Error(`cannot read the range ${JSON.stringify(range)}`);
      switch (match[1]) {
        case '^': {
          const [major, minor] = parse(bound);
          const [vMajor, vMinor] = parse(version);
          const sameLine = major !== 0 ? vMajor === major : vMajor === 0 && vMinor === minor;
          return sameLine && compare(version, bound) >= 0;
        }
        case '>=':
          return compare(version, bound) >= 0;
        case '<=':
          return compare(version, bound) <= 0;
        default:
          return compare(version, bound) === 0;
      }
    });
  });
}
