/** The instrumentation scope name of tracehop's spans. */
export const SCOPE_NAME = 'tracehop';

/**
 * The instrumentation scope version of tracehop's spans: the build writes package.json's
 * `version` here (scripts/build.mjs), so it can never drift from the published package.
 * Running from source (tests, the demo), it reads `0.0.0-source`.
 */
export const SCOPE_VERSION: string = '0.0.0-source';
