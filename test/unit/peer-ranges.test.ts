import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { satisfies, TESTED_PEERS, testedSpan } from '../../scripts/peer-ranges.js';

const ROOT = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
const require = createRequire(import.meta.url);

/** The version of `name` that `npm test` runs with (the devDependency npm ci installed). */
function installedVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (manifest.name === name) return manifest.version;
    } catch {
      // no package.json here: go up
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name}`);
    dir = dirname(dir);
  }
}

describe.each(TESTED_PEERS)('the optional peer $name', ({ name, subpath, alsoTested = [] }) => {
  it('has a closed range, >=<oldest> <=<newest>: the versions test:peers runs', () => {
    expect(pkg.peerDependenciesMeta[name]?.optional).toBe(true);
    expect(() => testedSpan(name, pkg.peerDependencies[name])).not.toThrow();
  });

  it('is, as installed for npm test, a version inside that range', () => {
    const range = pkg.peerDependencies[name] ?? '';
    const version = installedVersion(name);
    expect(satisfies(version, range), `${name}@${version} is outside ${range}`).toBe(true);
  });

  it("is in the README's table of tested versions with the same versions", () => {
    const { oldest, newest } = testedSpan(name, pkg.peerDependencies[name]);
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` `));
    expect(row, `a README row starting with | \`${name}\``).toBeDefined();
    const cells = row?.split('|').map((cell) => cell.trim());
    expect(cells?.slice(1, 6)).toEqual([
      `\`${name}\``,
      `\`${subpath}\``,
      oldest,
      newest,
      alsoTested.join(', '),
    ]);
  });
});

describe('satisfies', () => {
  it.each([
    ['3.1169.0', '^3.1072.0', true],
    ['3.572.0', '^3.1072.0', false],
    ['4.0.0', '^3.1072.0', false],
    ['0.10.6', '^0.10.0', true],
    ['0.11.0', '^0.10.0', false],
    ['2.3.1', '>=0.10.6 <=2.3.1', true],
    ['2.3.2', '>=0.10.6 <=2.3.1', false],
    ['1.0.0', '^0.10.0 || ^1.0.0', true],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('refuses a range it cannot read, rather than guess', () => {
    expect(() => satisfies('1.0.0', '~1.0.0')).toThrow(/cannot read/);
  });
});
