// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own type
// declarations, with the TypeScript compiler alone, then stamps package.json's version
// into the instrumentation scope version of both builds.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const SOURCE_VERSION = "'0.0.0-source'";

rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.build.cjs.json']) {
  execFileSync('tsc', ['-p', project], { stdio: 'inherit' });
}
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
for (const file of ['dist/esm/src/version.js', 'dist/cjs/src/version.js']) {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(SOURCE_VERSION)) {
    throw new Error(`${file} has no ${SOURCE_VERSION} to replace with the package version`);
  }
  writeFileSync(file, text.replace(SOURCE_VERSION, JSON.stringify(version)));
}
