// TypeDoc plugin: one module per package.json `exports` subpath, named as users import it
// (`tracehop`, `tracehop/sqs`, ...) instead of by source folder (`src`, `adapters/sqs`).
// It also fails the run when typedoc.json's entryPoints and package.json's `exports` differ,
// so that a new public subpath cannot ship without an API reference.
import { readFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

const root = fileURLToPath(new URL('../../', import.meta.url));
const slash = (path) => path.replaceAll('\\', '/');

/** Source entry file (absolute, forward slashes) → import specifier, from package.json `exports`. */
function subpathsBySource() {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const bySource = new Map();
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    const types = target?.import?.types;
    if (typeof types !== 'string') continue; // ./package.json
    const match = /^\.\/dist\/esm\/(.+)\.d\.ts$/.exec(types);
    if (!match)
      throw new Error(`package.json exports["${key}"].import.types: ${types} is not in dist/esm`);
    const specifier = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    bySource.set(slash(`${root}${match[1]}.ts`), specifier);
  }
  return bySource;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const bySource = subpathsBySource();

  app.converter.on(Converter.EVENT_BEGIN, () => {
    const entries = new Set(app.options.getValue('entryPoints').map(slash));
    for (const [source, specifier] of bySource) {
      if (!entries.has(source)) {
        app.logger.error(
          `${specifier} (${source}) is exported by package.json but not an entry point in typedoc.json`,
        );
      }
    }
    for (const entry of entries) {
      if (!bySource.has(entry)) {
        app.logger.error(
          `typedoc.json entry point ${entry} is not a subpath in package.json exports`,
        );
      }
    }
  });

  // Runs after TypeDoc's own handlers (lower priority), so it also wins over a `@module` name.
  app.converter.on(
    Converter.EVENT_CREATE_DECLARATION,
    (context, reflection) => {
      if (!reflection.kindOf(ReflectionKind.Module)) return;
      const file = context
        .getSymbolFromReflection(reflection)
        ?.declarations?.[0]?.getSourceFile().fileName;
      const specifier = file && bySource.get(slash(file));
      if (specifier) reflection.name = specifier;
    },
    -100,
  );
}
