// Kept in step with package.json by test/package.spec.ts.
export const VERSION = '0.1.0';
