// Option checks shared by layers, optimizers and fit(), and how their errors show the value they got: numbers
// as they are, strings quoted and called strings (so that lr: '0.1' does not read "got 0.1"), objects by their
// kind. One rule for every option message.

/** A value as an error message names it: `-5`, `NaN`, `the string '0.1'`, `true`, `a function`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  switch (typeof v) {
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'string': return `the string ${JSON.stringify(v).replace(/^"|"$/g, "'")}`;
    case 'boolean': return String(v);
    case 'bigint': return `the bigint ${v}n`;
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
  }
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  const name = (v as object).constructor?.name;
  if (!name || name === 'Object') return 'an object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** Throws a TypeError naming the option unless v is undefined or a boolean. */
export function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${name} must be true or false, got ${describeValue(v)}`);
  return v;
}

/** Throws a TypeError unless opts is undefined or a plain options object; returns it (or {}). */
export function optionsObject<T extends object>(opts: T | undefined, name: string): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${name} must be an options object, got ${describeValue(opts)}`);
  }
  return opts;
}

/** Throws a TypeError naming the option unless v is undefined or a finite number (a seed); returns it. */
export function optionalSeed(v: unknown, name: string): number | undefined {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new TypeError(`${name} must be a finite number, got ${describeValue(v)}`);
  }
  return v;
}
