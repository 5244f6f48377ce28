import { reportOnce } from '../../src/report.js';

/**
 * Runs tracehop's own bookkeeping after an SQS call has answered: a failure there is
 * reported once through `diag` and never reaches the caller, whose call succeeded.
 */
export function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportOnce(`sqs:${what}`, `could not record ${what} on its span: ${String(error)}`);
  }
}
