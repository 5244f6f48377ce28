/**
 * Bounded memory on a long-lived RabbitMQ channel: the work runs in a child process
 * (memory.child.ts) with `--expose-gc`, so that its heap holds nothing of vitest's and can be
 * measured after full collections.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import type { MemoryResult } from './memory.child.js';

const CHILD = fileURLToPath(new URL('./memory.child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MB = 1024 * 1024;

async function runChild(): Promise<MemoryResult> {
  const child = spawn(
    process.execPath,
    // --no-flush-bytecode: V8 otherwise drops the bytecode of functions that ran only at
    // start-up after a few collections, which lowers heapUsed mid-run by about 1.5 MB and
    // would hide that much growth.
    ['--expose-gc', '--no-flush-bytecode', '--import', 'tsx', CHILD],
    {
      cwd: ROOT,
      env: { ...process.env, RABBITMQ_URL: inject('rabbitmqUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined) {
    throw new Error(`memory child exited with ${code}:\n${stdout}\n${stderr}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as MemoryResult;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

it('a traced channel stays bounded: 40 000 never-acked messages timed out, 2 000 consume/cancel cycles', async () => {
  const { node, flood, cycles } = await runChild();
  console.log(
    [
      `node ${node}`,
      `flood: ${flood.warmupMessages} acked warm-up, then 2 × ${flood.messages} never acked ` +
        `(settleTimeoutMs ${flood.settleTimeoutMs}, prefetch 0) in ${flood.elapsedMs} ms`,
      `  heapUsed after gc: baseline ${kb(flood.baselineHeap)}, after ${flood.messages} timed out ` +
        `${kb(flood.afterHeap)} (Δ ${kb(flood.deltaHeap)}), after ${2 * flood.messages} ` +
        `${kb(flood.repeatHeap)} (Δ of the second ${flood.messages} ${kb(flood.repeatDeltaHeap)})`,
      `  in flight afterwards ${flood.unsettledAfter}, channel closed ${flood.channelClosed}, ` +
        `checkQueue ${JSON.stringify(flood.queueCheck)}`,
      `cycles: ${cycles.cycles} consume/cancel in ${cycles.elapsedMs} ms; heapUsed after gc at ` +
        `cycle ${cycles.warmupCycles} ${kb(cycles.baselineHeap)}, at ${cycles.cycles} ` +
        `${kb(cycles.afterHeap)} (Δ ${kb(cycles.deltaHeap)})`,
    ].join('\n'),
  );

  // (a) every delivery was handled and every span ended by the timeout, none is still indexed
  expect(flood.delivered).toBe(flood.warmupMessages + 2 * flood.messages);
  expect(flood.timedOut).toBe(2 * flood.messages);
  expect(flood.processEnded).toBe(flood.warmupMessages + 2 * flood.messages);
  expect(flood.unsettledAfter).toBe(0);
  expect(flood.deltaHeap).toBeLessThan(2 * MB);
  // A leak of 50 bytes per message would add 1 MB per 20 000.
  expect(flood.repeatDeltaHeap).toBeLessThan(1 * MB);
  // the channel survived: never closed, and answers
  expect(flood.channelClosed).toBe(false);
  expect(flood.queueCheck).toEqual({ messageCount: 0, consumerCount: 1 });

  // (b)
  expect(cycles.channelClosed).toBe(false);
  expect(cycles.deltaHeap).toBeLessThan(1 * MB);
}, 120_000);
