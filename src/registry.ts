/**
 * The state tracehop shares across one process, in one object under a global
 * `Symbol.for` key. A service that loads tracehop twice — as CommonJS through a
 * dependency and as ESM from its own code, or two copies in a bundle — still has one
 * registry: a delete made through one copy's client finds the span the other copy's
 * decorator opened, a channel wrapped by one copy is known to the other, and a problem is
 * reported once, not once per copy.
 *
 * The key carries the registry's layout version: a copy of tracehop with another layout
 * keeps its own registry instead of misreading this one.
 *
 * @packageDocumentation
 */

const REGISTRY_KEY = Symbol.for('tracehop.registry.v1');

/**
 * Everything shared: each entry is made by the first copy that needs it. Entries hold
 * objects made by whichever copy came first; the other copies only call their methods,
 * which is why every shared class keeps its methods compatible within one layout version.
 */
export interface Registry {
  /** The `diag` reports already made (see `reportOnce`). */
  readonly reported: Set<string>;
  /** Everything else, by name: each module keeps its own entry (see {@link shared}). */
  readonly entries: Map<string, unknown>;
}

type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: Registry };

/** The process's registry, made on first use. */
export function registry(): Registry {
  const holder = globalThis as GlobalWithRegistry;
  let found = holder[REGISTRY_KEY];
  if (found === undefined) {
    found = { reported: new Set(), entries: new Map() };
    // Not enumerable, so that nothing walking `globalThis` trips over it.
    Object.defineProperty(holder, REGISTRY_KEY, { value: found, enumerable: false });
  }
  return found;
}

/**
 * The registry's entry `name`, made with `create` by the first copy of tracehop that asks.
 * Call it once per module (at first use), not per message: the lookup is a map read.
 */
export function shared<T>(name: string, create: () => T): T {
  const entries = registry().entries;
  let entry = entries.get(name) as T | undefined;
  if (entry === undefined) {
    entry = create();
    entries.set(name, entry);
  }
  return entry;
}
