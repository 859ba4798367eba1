import { MAX_JSON_DEPTH, unsafeJsonProblem } from './body-parsing';

describe('unsafeJsonProblem', () => {
  it('passes ordinary bodies', () => {
    expect(unsafeJsonProblem({ a: [1, { b: 'c' }], d: null })).toBeNull();
    expect(unsafeJsonProblem('text')).toBeNull();
  });

  it('allows nesting up to the limit and names the path past it', () => {
    const nest = (depth: number): unknown => (depth === 0 ? 1 : { a: nest(depth - 1) });
    expect(unsafeJsonProblem(nest(MAX_JSON_DEPTH))).toBeNull();
    const problem = unsafeJsonProblem(nest(MAX_JSON_DEPTH + 1));
    expect(problem?.field).toBe(`a${'.a'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it('walks any depth without recursion', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unsafeJsonProblem({ body: deep })?.message).toMatch(/deeper/);
  });

  it('finds prototype keys anywhere, as JSON.parse creates them', () => {
    expect(unsafeJsonProblem(JSON.parse('{"__proto__":{"x":1}}'))).toEqual({ field: '__proto__', message: 'is not an allowed field name' });
    expect(unsafeJsonProblem(JSON.parse('{"a":[{"constructor":{}}]}'))?.field).toBe('a[0].constructor');
    expect(unsafeJsonProblem({ list: ['prototype'] })).toBeNull(); // a value, not a key
  });
});
