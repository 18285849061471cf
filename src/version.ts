// Kept in step with package.json by test/package.spec.ts.
/** nodenn's version (package.json's). */
export const VERSION = '0.1.0';
