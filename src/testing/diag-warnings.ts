import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { resetReports } from '../report.js';

/** Warnings tracehop reports through OpenTelemetry's `diag`, collected for assertions. */
export interface DiagWarnings {
  /** The warnings since the last {@link start}, in order. The same array throughout. */
  readonly messages: string[];
  /**
   * The errors logged through `diag.error` since the last {@link start} (a failed handler
   * whose decorator has no `onError`), in order. The same array throughout.
   */
  readonly errors: string[];
  /**
   * Forgets earlier warnings, and what tracehop already reported (it reports each kind of
   * problem once per process), then collects warnings. Call it before each test.
   */
  start(): void;
  /** Stops collecting: removes the `diag` logger. Call it after each test. */
  stop(): void;
}

/** Collects `diag` warnings; see {@link DiagWarnings}. */
export function captureDiagWarnings(): DiagWarnings {
  const messages: string[] = [];
  const errors: string[] = [];
  const ignore = () => undefined;
  const logger: DiagLogger = {
    error: (message: string) => void errors.push(message),
    warn: (message: string) => void messages.push(message),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
  return {
    messages,
    errors,
    start() {
      messages.length = 0;
      errors.length = 0;
      resetReports();
      diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    },
    stop() {
      diag.disable();
    },
  };
}
