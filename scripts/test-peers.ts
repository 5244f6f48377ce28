/**
 * npm run test:peers [-- [--keep] <peer>[@<version>] ...]
 *
 * Runs each optional peer's tests (its adapter's unit tests and its integration tests on the
 * real brokers) against the oldest and the newest version of its package.json range,
 * `>=<oldest> <=<newest>`, and the versions in its `alsoTested` (scripts/peer-ranges.ts): the
 * range says exactly what has been tested. Before the tests, tracehop's sources type-check
 * against the version. With arguments, only those peers, or those exact versions (to try a
 * version before moving a range: `npm run test:peers -- amqplib@0.10.5`); --keep keeps the
 * work copies.
 *
 * Per version: the package is installed on its own (npm, cached under
 * node_modules/.cache/tracehop-peers/), the project is copied to a temporary directory whose
 * node_modules links to the project's, except the peer, which links to that install.
 * Everything run from the copy, tracehop's adapters, the test files and the child processes
 * some tests start, resolves the peer to that version through plain Node and vite
 * resolution; a generated test checks it. The brokers are started once (or taken from
 * RABBITMQ_URL, SQS_ENDPOINT, PUBSUB_EMULATOR_HOST) and shared by every run.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrokers } from './brokers/index.js';
import { compare, satisfies, TESTED_PEERS, testedSpan, type TestedPeer } from './peer-ranges.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MODULES = join(ROOT, 'node_modules');
const CACHE = join(MODULES, '.cache', 'tracehop-peers');
/** What the type check and a vitest run of the integration and unit projects read. */
const COPIED = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'tsconfig.build.cjs.json',
  'vitest.config.ts',
  'src',
  'adapters',
  'test',
  'scripts',
  'examples',
];
const VERSION_CHECK = 'test/unit/peer-under-test.test.ts';

interface Run {
  readonly peer: TestedPeer;
  readonly version: string;
}

interface Outcome extends Run {
  readonly passed: boolean;
  readonly seconds: number;
  readonly note?: string;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function plannedRuns(args: readonly string[]): Run[] {
  const peerRanges = (readJson(join(ROOT, 'package.json'))['peerDependencies'] ?? {}) as Record<
    string,
    string
  >;
  const span = (peer: TestedPeer): string[] => {
    const range = peerRanges[peer.name];
    const { oldest, newest } = testedSpan(peer.name, range);
    for (const version of peer.alsoTested ?? []) {
      if (!satisfies(version, range ?? '')) {
        throw new Error(`${peer.name}@${version} (alsoTested) is outside its range ${range}`);
      }
    }
    return [...new Set([oldest, ...(peer.alsoTested ?? []), newest])];
  };
  if (args.length === 0) {
    return TESTED_PEERS.flatMap((peer) => span(peer).map((version) => ({ peer, version })));
  }
  return args.flatMap((arg) => {
    const at = arg.lastIndexOf('@');
    const name = at > 0 ? arg.slice(0, at) : arg;
    const peer = TESTED_PEERS.find((candidate) => candidate.name === name);
    if (!peer) {
      throw new Error(
        `${name} is not a tested peer (${TESTED_PEERS.map((p) => p.name).join(', ')})`,
      );
    }
    return at > 0
      ? [{ peer, version: arg.slice(at + 1) }]
      : span(peer).map((version) => ({ peer, version }));
  });
}

function installedVersion(packageDir: string): string | undefined {
  const manifest = join(packageDir, 'package.json');
  return existsSync(manifest) ? (readJson(manifest)['version'] as string) : undefined;
}

interface Installed {
  /** node_modules/<peer> of the install. */
  readonly packageDir: string;
  /** node_modules/@types/<peer> of the install, for a version that ships no types. */
  readonly typesDir?: string;
}

function typesPackage(name: string): string {
  return `@types/${name.replace(/^@(.+)\//, '$1__')}`;
}

function npmInstall(dir: string, specs: readonly string[]): boolean {
  const npm = spawnSync(
    'npm',
    [
      'install',
      ...specs,
      '--prefix',
      dir,
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--ignore-scripts',
      '--loglevel=error',
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  return npm.status === 0;
}

function shipsTypes(packageDir: string): boolean {
  const manifest = readJson(join(packageDir, 'package.json'));
  return (
    Boolean(manifest['types'] ?? manifest['typings']) || existsSync(join(packageDir, 'index.d.ts'))
  );
}

/**
 * Installs name@version on its own (cached), and, for a version without types of its own, the
 * DefinitelyTyped types of its major.minor (or the newest), as its users would.
 */
function install({ peer, version }: Run): Installed {
  const dir = join(CACHE, `${peer.name.replace('/', '+')}@${version}`);
  const packageDir = join(dir, 'node_modules', peer.name);
  const typesName = typesPackage(peer.name);
  const typesDir = join(dir, 'node_modules', typesName);
  const installed = (): Installed =>
    existsSync(typesDir) ? { packageDir, typesDir } : { packageDir };
  if (existsSync(join(dir, '.complete'))) return installed();

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const ok = npmInstall(dir, [`${peer.name}@${version}`]);
  const got = installedVersion(packageDir);
  if (!ok || got !== version) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`npm could not install ${peer.name}@${version} (got ${got ?? 'nothing'})`);
  }
  if (!shipsTypes(packageDir)) {
    // DefinitelyTyped versions follow the library's major.minor; else its newest types.
    const [major, minor] = version.split('.');
    const candidates = [`${typesName}@~${major}.${minor}.0`, `${typesName}@latest`];
    if (!candidates.some((types) => npmInstall(dir, [types]))) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `${peer.name}@${version} ships no types, and npm could not install ${typesName}`,
      );
    }
  }
  writeFileSync(join(dir, '.complete'), '');
  return installed();
}

/** The range a library in the project's node_modules declares for the peer (peer or dependency). */
function rangeFor(library: string, peer: string): string {
  const manifest = readJson(join(MODULES, library, 'package.json'));
  const pick = (field: string): string | undefined =>
    (manifest[field] as Record<string, string> | undefined)?.[peer];
  const range = pick('peerDependencies') ?? pick('dependencies');
  if (range === undefined) throw new Error(`${library} does not depend on ${peer}`);
  return range;
}

/** The tests left out of a run: those of companions whose own range excludes the version. */
function leftOut({ peer, version }: Run): { testNames: string; why: string }[] {
  return (peer.companions ?? []).flatMap(({ name, testNames }) => {
    const range = rangeFor(name, peer.name);
    return satisfies(version, range)
      ? []
      : [{ testNames, why: `${name} needs ${peer.name} ${range}` }];
  });
}

/**
 * A copy of the project whose node_modules is the project's, but with the install as the peer
 * (and its @types), and with real copies of its companions, so that they resolve the peer to
 * that version too.
 */
function workCopy({ peer, version }: Run, { packageDir, typesDir }: Installed): string {
  const dir = mkdtempSync(
    join(tmpdir(), `tracehop-peers-${peer.name.replace(/[@/]/g, '')}-${version}-`),
  );
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });

  const modules = join(dir, 'node_modules');
  const companions = (peer.companions ?? []).map(({ name }) => name);
  const typesName = typesDir ? typesPackage(peer.name) : undefined;
  const replaced = new Set([peer.name, ...companions, ...(typesName ? [typesName] : [])]);
  const scopes = new Set(
    [...replaced].flatMap((name) => (name.startsWith('@') ? [name.split('/')[0]] : [])),
  );
  mkdirSync(modules);
  for (const entry of readdirSync(MODULES)) {
    if (entry.startsWith('.') && entry !== '.bin') continue; // .cache, .vite, .package-lock.json
    if (scopes.has(entry)) {
      mkdirSync(join(modules, entry));
      for (const member of readdirSync(join(MODULES, entry))) {
        const name = `${entry}/${member}`;
        if (!replaced.has(name)) symlinkSync(join(MODULES, name), join(modules, name));
      }
    } else if (!replaced.has(entry)) {
      symlinkSync(join(MODULES, entry), join(modules, entry));
    }
  }
  symlinkSync(packageDir, join(modules, peer.name));
  if (typesDir && typesName) {
    mkdirSync(join(modules, '@types'), { recursive: true });
    symlinkSync(typesDir, join(modules, typesName));
  }
  for (const name of companions) {
    cpSync(realpathSync(join(MODULES, name)), join(modules, name), { recursive: true });
    rmSync(join(modules, name, 'node_modules', peer.name), { recursive: true, force: true });
  }

  // Fails the run if the tests would not get the version under test.
  writeFileSync(
    join(dir, VERSION_CHECK),
    `import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';

test('the tests resolve ${peer.name} to ${version}', () => {
  let dir = dirname(createRequire(import.meta.url).resolve(${JSON.stringify(peer.name)}));
  for (;;) {
    const path = join(dir, 'package.json');
    const manifest = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    if (manifest.name === ${JSON.stringify(peer.name)}) {
      expect(manifest.version).toBe(${JSON.stringify(version)});
      return;
    }
    if (dirname(dir) === dir) throw new Error('no package.json of ${peer.name} above its entry point');
    dir = dirname(dir);
  }
});
`,
  );
  return dir;
}

/** Runs a Node script of the project's tools in the work copy; resolves to whether it passed. */
function node(dir: string, args: readonly string[]): Promise<boolean> {
  const child = spawn(process.execPath, args, { cwd: dir, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * tracehop's sources, of which its .d.ts files are made, type-check against the version: as the
 * ESM build (NodeNext resolution) and as the CommonJS build (Node10), each of which users get.
 */
async function typecheck(dir: string, configs: readonly string[]): Promise<boolean> {
  const tsc = join(dir, 'node_modules/typescript/bin/tsc');
  for (const config of configs) {
    process.stdout.write(`[test:peers] tsc --noEmit -p ${config}\n`);
    if (!(await node(dir, [tsc, '--noEmit', '-p', config]))) return false;
  }
  return true;
}

function vitest(dir: string, peer: TestedPeer, leaveOut: readonly string[]): Promise<boolean> {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const names = leaveOut.length
    ? ['--testNamePattern', `^(?!.*(?:${leaveOut.map(escape).join('|')}))`]
    : [];
  const bin = join(dir, 'node_modules/vitest/vitest.mjs');
  return node(dir, [bin, 'run', ...names, ...peer.suites, VERSION_CHECK]);
}

async function runOne(run: Run, keep: boolean): Promise<Outcome> {
  const began = performance.now();
  const title = `${run.peer.name}@${run.version}`;
  const outcome = (passed: boolean, notes: readonly string[]): Outcome => ({
    ...run,
    passed,
    seconds: (performance.now() - began) / 1000,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  });
  process.stdout.write(`\n[test:peers] ${title}: ${run.peer.suites.join(' ')}\n`);
  let dir: string | undefined;
  try {
    const installed = install(run);
    const notes: string[] = [];
    if (installed.typesDir) notes.push(`types from ${typesPackage(run.peer.name)}`);
    const left = leftOut(run);
    for (const { testNames, why } of left)
      notes.push(`tests named *${testNames}* left out: ${why}`);
    for (const note of notes) process.stdout.write(`[test:peers] ${title}: ${note}\n`);
    dir = workCopy(run, installed);
    const esm = !run.peer.esmTypesFrom || compare(run.version, run.peer.esmTypesFrom) >= 0;
    if (!esm) {
      notes.push(`ESM types not checked (from ${run.peer.esmTypesFrom})`);
      process.stdout.write(`[test:peers] ${title}: ${notes.at(-1) ?? ''}\n`);
    }
    const configs = [...(esm ? ['tsconfig.build.json'] : []), 'tsconfig.build.cjs.json'];
    if (!(await typecheck(dir, configs))) return outcome(false, [...notes, 'type check failed']);
    const passed = await vitest(
      dir,
      run.peer,
      left.map(({ testNames }) => testNames),
    );
    return outcome(passed, notes);
  } catch (error) {
    const note = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[test:peers] ${title}: ${note}\n`);
    return outcome(false, [note]);
  } finally {
    if (dir && !keep) rmSync(dir, { recursive: true, force: true });
    else if (dir) process.stdout.write(`[test:peers] kept ${dir}\n`);
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const runs = plannedRuns(args.filter((arg) => arg !== '--keep'));
  const began = performance.now();

  process.env['METADATA_SERVER_DETECTION'] = 'none';
  const brokers = await startBrokers(['rabbitmq', 'sqs', 'pubsub']);
  const outcomes: Outcome[] = [];
  try {
    // The runs' vitest globalSetup finds these and starts nothing.
    process.env['RABBITMQ_URL'] = brokers.rabbitmq.url;
    process.env['SQS_ENDPOINT'] = brokers.sqs.endpoint;
    process.env['PUBSUB_EMULATOR_HOST'] = brokers.pubsub.host;
    for (const run of runs) outcomes.push(await runOne(run, keep));
  } finally {
    await brokers.stopAll();
  }

  process.stdout.write('\n[test:peers] summary\n');
  for (const { peer, version, passed, seconds, note } of outcomes) {
    const line = `${passed ? 'pass' : 'FAIL'}  ${`${peer.name}@${version}`.padEnd(36)} ${seconds.toFixed(0).padStart(4)} s`;
    process.stdout.write(`  ${line}${note ? `  (${note})` : ''}\n`);
  }
  process.stdout.write(`  total ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
  return outcomes.every((outcome) => outcome.passed) ? 0 : 1;
}

process.exitCode = await main();
