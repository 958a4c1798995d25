// The matching rules of tests/vectors/README.md, the same as tests/vector_runner/json_match.cpp.
// One matcher per case: `$=name` bindings live as long as the case.

export class JsonMatcher {
  constructor() {
    this.vars = new Map();
  }

  /** @returns {string|null} null on a match, else why it failed */
  match(expected, actual, path = '$') {
    const shown = actual === undefined ? '<absent>' : JSON.stringify(actual);
    const fail = (what) => `${path}: ${what} (expected ${JSON.stringify(expected)}, got ${shown})`;
    if (typeof expected === 'string') {
      if (expected === '$absent') return actual === undefined ? null : fail('should be absent');
      if (actual === undefined) return fail('missing');
      if (expected === '$any') return null;
      if (expected.startsWith('$!=')) {
        const name = expected.slice(3);
        if (!this.vars.has(name)) return fail('variable not bound yet');
        return deepEqual(this.vars.get(name), actual) ? fail(`should differ from $${name}`) : null;
      }
      if (expected.startsWith('$=')) {
        const name = expected.slice(2);
        if (!this.vars.has(name)) {
          this.vars.set(name, actual);
          return null;
        }
        return deepEqual(this.vars.get(name), actual)
          ? null
          : fail(`differs from bound ${JSON.stringify(this.vars.get(name))}`);
      }
      return actual === expected ? null : fail('not equal');
    }
    if (actual === undefined) return fail('missing');
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) return fail('not an array');
      if (actual.length !== expected.length) return fail(`length ${actual.length} != ${expected.length}`);
      for (let i = 0; i < expected.length; i += 1) {
        const why = this.match(expected[i], actual[i], `${path}[${i}]`);
        if (why) return why;
      }
      return null;
    }
    if (expected !== null && typeof expected === 'object') {
      if ('$range' in expected) {
        if (typeof actual !== 'number') return fail('not a number');
        const [lo, hi] = expected.$range;
        return actual >= lo && actual <= hi ? null : fail('out of range');
      }
      if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
        return fail('not an object');
      for (const [key, value] of Object.entries(expected)) {
        if (key === '$exact') continue;
        const why = this.match(value, Object.hasOwn(actual, key) ? actual[key] : undefined, `${path}.${key}`);
        if (why) return why;
      }
      if (expected.$exact === true) {
        for (const key of Object.keys(actual))
          if (!Object.hasOwn(expected, key)) return fail(`unexpected key ${key}`);
      }
      return null;
    }
    return deepEqual(expected, actual) ? null : fail('not equal');
  }
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}
