/** The instrumentation scope name and version of tracehop's spans. */
export const SCOPE_NAME = 'tracehop';
export const SCOPE_VERSION = '0.1.0';
