import { AsyncMutex } from './async-mutex';

describe('AsyncMutex', () => {
  it('runs holders one at a time in arrival order and survives a throwing holder', async () => {
    const mutex = new AsyncMutex();
    const events: string[] = [];
    const holder = (name: string, fail = false) => mutex.runExclusive(async () => {
      events.push(`${name}+`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`${name}-`);
      if (fail) throw new Error(name);
      return name;
    });
    const results = await Promise.allSettled([holder('a'), holder('b', true), holder('c')]);
    expect(events).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
