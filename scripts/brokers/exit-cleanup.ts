/**
 * Runs a synchronous cleanup when this process ends without the broker's stop() having run —
 * normally, by an uncaught error, or by SIGINT/SIGTERM/SIGHUP (vitest exits on Ctrl-C without
 * running globalSetup teardowns) — so that no broker is left behind: the Pub/Sub emulator sits in
 * its own process group, which a terminal's Ctrl-C does not reach, and the RabbitMQ daemon is
 * detached. Returns a function that unregisters it.
 */
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function onProcessEnd(cleanup: () => void): () => void {
  const onExit = (): void => cleanup();
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    unregister();
    // Nobody else handles this signal: restore Node's default (terminate) by re-raising it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const unregister = (): void => {
    process.off('exit', onExit);
    for (const signal of signals) process.off(signal, onSignal);
  };
  process.on('exit', onExit);
  for (const signal of signals) process.on(signal, onSignal);
  return unregister;
}
