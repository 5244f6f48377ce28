import { isPromiseLike } from '../../src/errors.js';

/** How a batch went: which items failed (or were not run), and the first error. */
export interface BatchOutcome {
  /** `failed[i]`: item i threw, or was not run because an earlier one failed in order. */
  readonly failed: readonly boolean[];
  /** How many items failed or were not run. */
  readonly failures: number;
  /** The first error thrown, in item order. */
  readonly firstError: unknown;
}

/**
 * Runs `run` for every item of a batch, one after the other or all at once, and waits
 * for all of them. In order (`inOrder`), the first failure marks every later item as
 * failed without running it: FIFO queues must not see a later message handled before
 * an earlier one that will come back.
 */
export async function runBatch<T>(
  items: readonly T[],
  run: (item: T) => unknown,
  parallel: boolean,
  inOrder: boolean,
): Promise<BatchOutcome> {
  const failed = new Array<boolean>(items.length).fill(false);
  let failures = 0;
  let firstError: unknown;
  let firstErrorAt = Infinity;
  const fail = (index: number, error: unknown) => {
    failed[index] = true;
    failures++;
    if (index < firstErrorAt) {
      firstErrorAt = index;
      firstError = error;
    }
  };
  if (parallel && !inOrder) {
    const settled = await Promise.allSettled(items.map((item) => callAsync(run, item)));
    settled.forEach((outcome, index) => {
      if (outcome.status === 'rejected') fail(index, outcome.reason);
    });
    return { failed, failures, firstError };
  }
  for (let index = 0; index < items.length; index++) {
    try {
      const result = run(items[index] as T);
      if (isPromiseLike(result)) await result;
    } catch (error) {
      fail(index, error);
      if (inOrder) {
        for (let later = index + 1; later < items.length; later++) {
          failed[later] = true;
          failures++;
        }
        break;
      }
    }
  }
  return { failed, failures, firstError };
}

/** `run(item)` as a promise, a synchronous throw included. */
async function callAsync<T>(run: (item: T) => unknown, item: T): Promise<unknown> {
  return await run(item);
}
